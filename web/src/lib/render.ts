// Renders message text through the guard: the WebAssembly splits a
// received text into segments (plain, masked, links with verdicts) and
// each becomes a text node or an inert button — never markup. A link
// opens only through `openLink`, which for a `caution`/`danger` verdict
// first asks, naming the risk, and never opens anything but http(s).
import { h, icon, ICONS } from './dom';
import type { Cores } from './wasm';

export type Direction = 'visitor_to_org' | 'agent_to_visitor' | 'internal_note';

interface LinkView {
  verdict: 'safe' | 'caution' | 'danger';
  reasons: string[];
  host: string | null;
  explanation: string;
  action: string;
}

interface Segment {
  text: string;
  masked?: boolean;
  link?: LinkView;
}

interface Rendered {
  segments: Segment[];
  decision: { action: string; message: string };
}

const REASONS: Record<string, string> = {
  homograph: 'its address mixes look-alike characters from other alphabets',
  lookalike_org: "it imitates this company's own domain",
  lookalike_brand: 'it imitates a well-known brand',
  punycode: 'its address is encoded to look like another one',
  userinfo: 'it hides the real address behind a user name',
  raw_ip: 'it points to a bare IP address instead of a domain',
  shortener: 'it is a shortened link that hides where it leads',
  dangerous_scheme: 'it can run code instead of opening a page',
  executable_download: 'it downloads a program',
  text_mismatch: 'the text shown differs from where it leads',
  redirect_param: 'it redirects to another site',
  non_standard_port: 'it uses an unusual port',
  plain_http: 'it is not encrypted (http)',
  unusual_scheme: 'it uses an unusual scheme',
  malformed: 'it is malformed',
};

export function reasonText(reasons: string[]): string {
  const parts = reasons.map((r) => REASONS[r]).filter((x): x is string => Boolean(x));
  return parts.length ? parts.join('; ') : '';
}

/** Renders `text` received in `direction` into `into`; returns the reader's warning, if any. */
export function renderText(
  cores: Cores,
  into: HTMLElement,
  text: string,
  direction: Direction,
  policy: string,
  dialogHost: HTMLElement,
): string {
  let r: Rendered;
  try {
    r = JSON.parse(cores.guardRender(direction, text, policy, '')) as Rendered;
  } catch {
    into.append(text);
    return '';
  }
  for (const s of r.segments) {
    if (s.link) {
      into.append(linkButton(s.text, s.link, dialogHost));
    } else if (s.masked) {
      into.append(h('span', { class: 'masked', attrs: { title: 'Hidden by the security policy' } }, s.text));
    } else {
      into.append(s.text);
    }
  }
  return r.decision.action === 'warn' ? r.decision.message : '';
}

function linkButton(text: string, link: LinkView, dialogHost: HTMLElement): HTMLElement {
  const label = link.verdict === 'safe' ? 'link' : link.verdict === 'caution' ? 'caution' : 'danger';
  return h(
    'button',
    {
      class: `link link-${link.verdict}`,
      attrs: {
        type: 'button',
        'data-verdict': link.verdict,
        'aria-label': `${text} (${label === 'link' ? 'link' : `${label}: ${link.explanation}`})`,
      },
      on: { click: () => openLink(text, link, dialogHost) },
    },
    h('span', { class: 'link-text' }, text),
    link.verdict === 'safe' ? null : h('span', { class: 'badge' }, link.verdict === 'danger' ? 'Danger' : 'Caution'),
  );
}

/** The http(s) URL a link's text leads to, or null. */
export function target(text: string): URL | null {
  const candidate = /^[a-z][a-z0-9+.-]*:/i.test(text) ? text : `https://${text}`;
  try {
    const u = new URL(candidate);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u : null;
  } catch {
    return null;
  }
}

function go(url: URL) {
  window.open(url.href, '_blank', 'noopener,noreferrer');
}

export function openLink(text: string, link: LinkView, dialogHost: HTMLElement): void {
  const url = target(text);
  if (link.verdict === 'safe' && url) {
    go(url);
    return;
  }
  const why = reasonText(link.reasons);
  const dialog = h('dialog', {
    class: `confirm confirm-${link.verdict}`,
    attrs: { 'aria-labelledby': 'confirm-title', 'aria-describedby': 'confirm-body' },
  });
  const close = () => {
    dialog.close();
    dialog.remove();
  };
  dialog.append(
    h(
      'h2',
      { id: 'confirm-title' },
      icon(ICONS.warn),
      link.verdict === 'danger' ? ' This link looks dangerous' : ' Check this link',
    ),
    h(
      'p',
      { id: 'confirm-body' },
      link.explanation,
      why ? ` (${why}.)` : '',
    ),
    h('p', { class: 'confirm-url' }, link.host ? `It leads to ${link.host}` : text),
    url
      ? h(
          'div',
          { class: 'actions' },
          h('button', { class: 'secondary', attrs: { type: 'button', autofocus: true }, on: { click: close } }, 'Cancel'),
          h(
            'button',
            {
              class: 'danger',
              attrs: { type: 'button', 'data-action': 'open-anyway' },
              on: {
                click: () => {
                  close();
                  go(url);
                },
              },
            },
            link.verdict === 'danger' ? 'Open anyway, I understand the risk' : 'Open link',
          ),
        )
      : h(
          'div',
          { class: 'actions' },
          h('p', {}, 'This link cannot be opened from the chat.'),
          h('button', { attrs: { type: 'button', autofocus: true }, on: { click: close } }, 'Close'),
        ),
  );
  dialog.addEventListener('cancel', () => dialog.remove());
  dialogHost.append(dialog);
  dialog.showModal();
}

/** A guard warning before sending: the one-sentence risk and the choices. */
export interface OutgoingCheck {
  findings: { kind: string; masked: string }[];
  decision: { action: 'allow' | 'warn' | 'mask' | 'block'; message: string; can_mask: boolean };
  required: string;
  masked: string;
}

export function checkOutgoing(cores: Cores, direction: Direction, text: string, policy: string): OutgoingCheck {
  return JSON.parse(cores.guardCheck(direction, text, policy, '')) as OutgoingCheck;
}
