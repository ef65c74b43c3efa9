// The widget loader a company page embeds with one <script> tag:
//
//   <script src="https://chat.example.com/widget.js" integrity="sha384-…"
//     crossorigin="anonymous" async
//     data-confide-root="<root-key fingerprint>" data-confide-inbox="<inbox id>"></script>
//
// It draws a launcher button and, on the first click, opens the chat in an
// iframe of the Confide origin: the host page's scripts cannot read the
// conversation or the keys inside it. It talks to the frame only with
// postMessage, checking the frame's exact origin and window. No eval, no
// inline script or style (styles are set through the CSSOM), keyboard
// accessible, full screen at phone widths.
(() => {
  const script = document.currentScript as HTMLScriptElement | null;
  if (!script || document.getElementById('confide-launcher')) return;
  const origin = new URL(script.src).origin;
  const root = script.dataset['confideRoot'] ?? '';
  const inbox = script.dataset['confideInbox'] ?? '';
  const label = script.dataset['confideLabel'] ?? 'Chat with us';
  const color = /^#[0-9a-fA-F]{3,8}$/.test(script.dataset['confideColor'] ?? '') ? (script.dataset['confideColor'] as string) : '#3b47d6';

  type Style = Partial<Record<keyof CSSStyleDeclaration, string>>;
  const css = (el: HTMLElement, s: Style) => Object.assign(el.style, s);

  const launcher = document.createElement('button');
  launcher.id = 'confide-launcher';
  launcher.type = 'button';
  launcher.setAttribute('aria-haspopup', 'dialog');
  launcher.setAttribute('aria-expanded', 'false');
  launcher.setAttribute('aria-label', label);
  const svgNs = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(svgNs, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('width', '24');
  svg.setAttribute('height', '24');
  svg.setAttribute('aria-hidden', 'true');
  const path = document.createElementNS(svgNs, 'path');
  path.setAttribute('fill', 'currentColor');
  path.setAttribute('d', 'M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z');
  svg.appendChild(path);
  const text = document.createElement('span');
  text.textContent = label;
  const dot = document.createElement('span');
  dot.setAttribute('aria-hidden', 'true');
  launcher.append(svg, text, dot);
  css(launcher, {
    position: 'fixed',
    right: '20px',
    bottom: '20px',
    zIndex: '2147483000',
    display: 'flex',
    alignItems: 'center',
    gap: '8px',
    padding: '12px 18px',
    border: '0',
    borderRadius: '999px',
    background: color,
    color: '#fff',
    font: '600 15px/1.2 system-ui, -apple-system, "Segoe UI", sans-serif',
    boxShadow: '0 6px 24px rgba(0,0,0,.22)',
    cursor: 'pointer',
  });

  // The page may vouch for its logged-in visitor (docs/protocol.md §12):
  //   window.Confide.identify(async (deviceId) => tokenFromYourBackend(deviceId))
  // The chat asks for a token (bound to its device id, base64) when it
  // starts a conversation; agents verify it end to end.
  type Provider = (deviceId: string) => string | Promise<string>;
  let provider: Provider | undefined;
  const api = ((window as unknown as { Confide?: Record<string, unknown> }).Confide ??= {});
  api['identify'] = (p: Provider) => {
    provider = typeof p === 'function' ? p : undefined;
  };

  css(dot, { display: 'none', width: '10px', height: '10px', borderRadius: '50%', background: '#ff4d4f', marginLeft: '2px' });
  const unread = (yes: boolean) => {
    dot.style.display = yes ? 'inline-block' : 'none';
    launcher.setAttribute('aria-label', yes ? `${label} (new message)` : label);
  };

  let frame: HTMLIFrameElement | undefined;
  let open = false;
  let clickedAt = 0;
  const phone = window.matchMedia('(max-width: 480px)');

  const place = () => {
    if (!frame) return;
    css(
      frame,
      phone.matches
        ? { right: '0', bottom: '0', width: '100%', height: '100%', borderRadius: '0' }
        : { right: '20px', bottom: '84px', width: '380px', height: 'min(620px, calc(100vh - 108px))', borderRadius: '16px' },
    );
  };

  const show = (yes: boolean) => {
    open = yes;
    launcher.setAttribute('aria-expanded', String(yes));
    if (frame) frame.style.display = yes ? 'block' : 'none';
    if (phone.matches) launcher.style.display = yes ? 'none' : 'flex';
    if (yes) {
      unread(false);
      frame?.focus();
      frame?.contentWindow?.postMessage({ type: 'confide:open' }, origin);
    } else {
      launcher.focus();
    }
  };

  launcher.addEventListener('click', () => {
    if (frame) {
      show(!open);
      return;
    }
    clickedAt = performance.now();
    const src = new URL('/chat', origin);
    src.searchParams.set('root', root);
    src.searchParams.set('inbox', inbox);
    src.searchParams.set('host', location.origin);
    frame = document.createElement('iframe');
    frame.id = 'confide-frame';
    frame.title = label;
    frame.src = src.href;
    frame.setAttribute('referrerpolicy', 'no-referrer');
    css(frame, {
      position: 'fixed',
      zIndex: '2147483001',
      border: '0',
      background: '#fff',
      boxShadow: '0 12px 48px rgba(0,0,0,.28)',
      colorScheme: 'normal',
    });
    place();
    document.body.appendChild(frame);
    show(true);
  });
  phone.addEventListener('change', place);

  window.addEventListener('message', (e: MessageEvent) => {
    if (e.origin !== origin || !frame || e.source !== frame.contentWindow) return;
    const data = e.data as { type?: unknown; count?: unknown } | null;
    switch (data?.type) {
      case 'confide:ready':
        // Click-to-ready time, for the page's own measurements and tests.
        if (clickedAt) launcher.dataset['confideReadyMs'] = String(Math.round(performance.now() - clickedAt));
        clickedAt = 0;
        break;
      case 'confide:close':
        show(false);
        break;
      case 'confide:message':
        if (!open) unread(true);
        break;
      case 'confide:identity-request': {
        const device = (data as { device?: unknown }).device;
        const reply = (token: unknown) =>
          frame?.contentWindow?.postMessage({ type: 'confide:identity', token: typeof token === 'string' ? token : null }, origin);
        if (!provider || typeof device !== 'string') {
          reply(null);
          break;
        }
        Promise.resolve()
          .then(() => (provider as Provider)(device))
          .then(reply, () => reply(null));
        break;
      }
      default:
        break;
    }
  });

  const mount = () => document.body.appendChild(launcher);
  if (document.body) mount();
  else document.addEventListener('DOMContentLoaded', mount);
})();
