// The chat frame (/chat), inside the iframe the widget loader opens on
// the Confide origin: the host page can neither read this document nor
// its storage. It pins the organisation's root key from the embed
// snippet (passed by the loader), verifies the inbox's statements with it
// in the WebAssembly, keeps the visitor's device key in IndexedDB wrapped
// by a non-extractable WebCrypto key, runs the guard before every send,
// and talks to the host page only through postMessage (ready / close /
// unread) with the host's exact origin.
import { api, ApiError, getText, type Auth, type Organisation } from '../lib/api';
import { $, clock, h, icon, ICONS, replace } from '../lib/dom';
import * as ks from '../lib/keystore';
import { Live } from '../lib/live';
import { checkOutgoing, renderText, type OutgoingCheck } from '../lib/render';
import { Thread, type Message } from '../lib/thread';
import { codeOf, loadCores, nowSeconds, type Cores, type Device } from '../lib/wasm';

const params = new URLSearchParams(location.search);
const pinned = params.get('root') ?? '';
const inbox = params.get('inbox') ?? '';
const hostOrigin = (() => {
  try {
    const u = new URL(params.get('host') ?? '');
    return u.origin === params.get('host') ? u.origin : null;
  } catch {
    return null;
  }
})();

function post(msg: Record<string, unknown>) {
  if (hostOrigin && window.parent !== window) window.parent.postMessage(msg, hostOrigin);
}

let cores: Cores;
let device: Device;
let policy = '';
let canSend = false;
let token: string | undefined;
let thread: Thread | undefined;
let live: Live | undefined;
let lastRead = 0;
let typingTimer: ReturnType<typeof setTimeout> | undefined;
let lastTypingSent = 0;

const app = $('#app');
const list = h('ol', { class: 'messages', attrs: { role: 'log', 'aria-live': 'polite', 'aria-label': 'Messages' } });
const notice = h('section', { class: 'notice', attrs: { 'aria-label': 'Privacy notice' } });
const banner = h('div', { class: 'banner', attrs: { role: 'status', hidden: true } });
const typing = h('div', { class: 'typing', attrs: { 'aria-live': 'polite' } });
const guardPanel = h('div', { class: 'guard', attrs: { role: 'alert', hidden: true } });
const input = h('textarea', {
  id: 'message',
  attrs: { rows: '2', placeholder: 'Write a message…', disabled: true, maxlength: '4000', autocomplete: 'off' },
});
const sendButton = h('button', { class: 'send', attrs: { type: 'submit', disabled: true, 'aria-label': 'Send' } }, icon(ICONS.send));
const form = h(
  'form',
  { class: 'composer', attrs: { action: '#', method: 'post' } },
  h('label', { class: 'visually-hidden', attrs: { for: 'message' } }, 'Message'),
  input,
  sendButton,
);

function fatal(title: string, detail: string) {
  replace(app, h('div', { class: 'fatal', attrs: { role: 'alert' } }, h('h1', {}, title), h('p', {}, detail)));
  app.setAttribute('aria-busy', 'false');
}

function layout() {
  const header = h(
    'header',
    {},
    h('div', { class: 'title' }, h('h1', {}, 'Chat with us'), h('p', { class: 'e2ee' }, icon(ICONS.lock), ' End-to-end encrypted')),
    h(
      'button',
      { class: 'icon-button', attrs: { type: 'button', 'aria-label': 'Download transcript', title: 'Download transcript' }, on: { click: downloadTranscript } },
      icon(ICONS.download),
    ),
    h(
      'button',
      { class: 'icon-button', attrs: { type: 'button', 'aria-label': 'Close chat', title: 'Close' }, on: { click: () => post({ type: 'confide:close' }) } },
      icon(ICONS.close),
    ),
  );
  replace(app, header, banner, h('div', { class: 'scroll' }, notice, list, typing), guardPanel, form);
}

function showNotice(required: string[]) {
  replace(
    notice,
    h('h2', {}, icon(ICONS.lock), ' Private by design'),
    h(
      'p',
      {},
      'This chat is end-to-end encrypted: only you and the support team can read it, not the chat server. ',
      'We keep your messages only in encrypted form, plus what is needed to deliver them (times, and your network address to stop abuse).',
    ),
    required.includes('records') ? h('p', {}, 'The company keeps an encrypted record of this conversation.') : null,
  );
}

async function loadDevice(): Promise<Device> {
  const secret = await ks.getSecret('visitor-device');
  if (secret) {
    try {
      return cores.Device.restore(secret, false);
    } finally {
      secret.fill(0);
    }
  }
  const d = cores.Device.generate(false);
  await ks.putSecret('visitor-device', d.exportSecret());
  return d;
}

async function syncInbox(): Promise<void> {
  const chain = await getText(`/api/v1/inboxes/${inbox}/chain`);
  const summary = JSON.parse(device.sync(inbox, chain, nowSeconds())) as {
    can_send: boolean;
    policy: string;
    required: string[];
  };
  policy = summary.policy;
  canSend = summary.can_send;
  showNotice(summary.required);
  const cp = device.checkpoint(inbox);
  if (cp) await ks.put(`checkpoint:${inbox}`, cp);
}

const auth = (): Auth => (token ? { scheme: 'Visitor', token } : null);

function startThread(id: string) {
  thread = new Thread({ cores, device, auth, sync: syncInbox }, id, inbox, renderMessages);
  live ??= new Live(token ? { scheme: 'visitor', token } : null, {
    envelope: async (_c, seq, env, at, isLive) => {
      const m = await thread?.receive(seq, env, at, isLive);
      if (m && !m.mine) {
        clearTimeout(typingTimer);
        typing.textContent = '';
        // The loader shows an unread dot on the launcher while the chat is closed.
        if (isLive) post({ type: 'confide:message' });
      }
    },
    caughtUp: () => markRead(),
    typing: (_c, who) => {
      if (who === 'visitor') return;
      typing.textContent = 'Support is typing…';
      clearTimeout(typingTimer);
      typingTimer = setTimeout(() => (typing.textContent = ''), 4000);
    },
    read: (_c, who, seq) => {
      if (who === 'visitor' || !thread) return;
      thread.readByOther = Math.max(thread.readByOther, seq);
      renderMessages();
    },
    state: (s) => {
      banner.hidden = s === 'online';
      banner.textContent = s === 'online' ? '' : 'You are offline. Reconnecting…';
      app.dataset['live'] = s;
    },
    failed: (_c, code) => {
      if (code === 'unauthorized' || code === 'not_found') banner.textContent = 'This conversation is no longer available.';
      banner.hidden = false;
    },
  });
  live.follow(id, 0);
}

async function resume(): Promise<void> {
  token = await ks.getTextSecret('visitor-token');
  const saved = await ks.get<{ id: string; descriptor: string }>(`conversation:${inbox}`);
  if (!token || !saved) return;
  try {
    const me = await api<{ device_id: string }>('GET', '/api/v1/visitors/me', { auth: auth() });
    if (me.device_id !== device.deviceId()) throw new ApiError(401, 'unauthorized', 'another device');
    device.openConversation(saved.id, saved.descriptor);
    startThread(saved.id);
  } catch (e) {
    if (e instanceof ApiError && (e.status === 401 || e.status === 404)) {
      token = undefined;
      await ks.delSecret('visitor-token');
      await ks.del(`conversation:${inbox}`);
      return;
    }
    throw e;
  }
}

/** Asks the host page for an identity token (base64) for this device; hex or ''. */
function identityToken(): Promise<string> {
  if (!hostOrigin || window.parent === window) return Promise.resolve('');
  return new Promise((resolve) => {
    const done = (hex: string) => {
      window.removeEventListener('message', listen);
      clearTimeout(timer);
      resolve(hex);
    };
    const listen = (e: MessageEvent) => {
      if (e.origin !== hostOrigin || e.source !== window.parent) return;
      const data = e.data as { type?: unknown; token?: unknown } | null;
      if (data?.type !== 'confide:identity') return;
      done(typeof data.token === 'string' ? base64ToHex(data.token) : '');
    };
    const timer = setTimeout(() => done(''), 5000);
    window.addEventListener('message', listen);
    post({ type: 'confide:identity-request', device: device.deviceId() });
  });
}

function base64ToHex(b64: string): string {
  if (b64.length > 2000) return '';
  try {
    return Array.from(atob(b64), (c) => c.charCodeAt(0).toString(16).padStart(2, '0')).join('');
  } catch {
    return '';
  }
}

async function ensureConversation(): Promise<Thread> {
  if (!token) {
    const created = await api<{ token: string; device_id: string }>('POST', '/api/v1/visitors', {
      json: { identity: device.identity() },
    });
    if (created.device_id !== device.deviceId()) throw new ApiError(502, 'bad_response', 'device mismatch');
    token = created.token;
    await ks.putText('visitor-token', created.token);
  }
  if (!thread) {
    const identity = await identityToken();
    await syncInbox();
    const started = JSON.parse(device.startConversation(inbox, identity)) as { id: string; descriptor: string };
    await api('POST', '/api/v1/conversations', {
      auth: auth(),
      json: { inbox_id: inbox, conversation_id: started.id, descriptor: started.descriptor },
    });
    await ks.put(`conversation:${inbox}`, { id: started.id, descriptor: started.descriptor });
    startThread(started.id);
  }
  if (!thread) throw new Error('no conversation');
  return thread;
}

function statusOf(m: Message): string {
  switch (m.state) {
    case 'sending':
      return 'Sending…';
    case 'waiting':
      return 'Waiting for the connection…';
    case 'failed':
      return `Not sent: ${m.error ?? 'error'}`;
    case 'delivered':
      return thread && m.seq !== undefined && thread.readByOther >= m.seq ? 'Read' : 'Delivered';
    default:
      return '';
  }
}

function renderMessages() {
  if (!thread) return;
  const atBottom = list.parentElement ? list.parentElement.scrollHeight - list.parentElement.scrollTop - list.parentElement.clientHeight < 40 : true;
  const items = thread.messages
    .filter((m) => !m.internal)
    .map((m) => {
      const body = h('div', { class: 'text' });
      let warning = '';
      if (m.mine) body.append(m.text);
      else warning = renderText(cores, body, m.text, 'agent_to_visitor', policy, document.body);
      return h(
        'li',
        { class: `msg ${m.mine ? 'mine' : 'theirs'} ${m.state}`, attrs: { 'data-state': m.state, 'data-seq': m.seq?.toString() } },
        h('div', { class: 'who' }, m.mine ? 'You' : (m.sender?.alias ?? 'Support'), m.receivedAt ? ` · ${clock(m.receivedAt)}` : ''),
        body,
        warning ? h('p', { class: 'reader-warning', attrs: { role: 'note' } }, icon(ICONS.warn), ` ${warning}`) : null,
        m.mine ? h('div', { class: 'status' }, statusOf(m)) : null,
      );
    });
  replace(list, ...items);
  notice.classList.toggle('compact', items.length > 0);
  if (atBottom && list.parentElement) list.parentElement.scrollTop = list.parentElement.scrollHeight;
  markRead();
}

function markRead() {
  if (!thread || !live || document.visibilityState !== 'visible') return;
  const seq = thread.lastReceived();
  if (seq > lastRead) {
    lastRead = seq;
    live.markRead(thread.id, seq);
  }
}

function showGuard(check: OutgoingCheck, text: string) {
  const block = check.decision.action === 'block';
  replace(
    guardPanel,
    h('p', {}, icon(ICONS.warn), ` ${check.decision.message}`),
    h(
      'div',
      { class: 'actions' },
      !block && check.decision.can_mask
        ? h('button', { attrs: { type: 'button', 'data-action': 'mask-send' }, on: { click: () => void send(check.masked) } }, 'Mask and send')
        : null,
      !block
        ? h('button', { class: 'secondary', attrs: { type: 'button', 'data-action': 'send-anyway' }, on: { click: () => void send(text) } }, 'Send anyway')
        : null,
      h('button', { class: 'secondary', attrs: { type: 'button', 'data-action': 'edit' }, on: { click: hideGuard } }, 'Edit message'),
    ),
  );
  guardPanel.dataset['action'] = check.decision.action;
  guardPanel.hidden = false;
  const first = guardPanel.querySelector('button');
  first?.focus();
}

function hideGuard() {
  guardPanel.hidden = true;
  guardPanel.replaceChildren();
  input.focus();
}

async function send(text: string) {
  guardPanel.hidden = true;
  guardPanel.replaceChildren();
  input.value = '';
  input.focus();
  try {
    const t = await ensureConversation();
    await t.send(text);
  } catch (e) {
    banner.hidden = false;
    banner.textContent = `Your message could not be sent (${e instanceof ApiError ? e.message : codeOf(e)}).`;
  }
}

async function onSubmit(ev: Event) {
  ev.preventDefault();
  const text = input.value.trim();
  if (!text) return;
  if (!canSend) {
    await syncInbox().catch(() => undefined);
    if (!canSend) {
      banner.hidden = false;
      banner.textContent = 'Nobody from the support team can receive messages right now. Please try again later.';
      return;
    }
  }
  const check = checkOutgoing(cores, 'visitor_to_org', text, policy);
  switch (check.decision.action) {
    case 'allow':
      return send(text);
    case 'mask':
      return send(check.required);
    default:
      showGuard(check, text);
  }
}

function onTyping() {
  if (!thread || !live) return;
  const now = Date.now();
  if (now - lastTypingSent > 1500) {
    lastTypingSent = now;
    live.typing(thread.id);
  }
}

function downloadTranscript() {
  const lines = (thread?.messages ?? [])
    .filter((m) => !m.internal && m.seq !== undefined)
    .map((m) => `[${new Date(m.receivedAt * 1000).toISOString()}] ${m.mine ? 'You' : (m.sender?.alias ?? 'Support')}: ${m.text}`);
  const blob = new Blob([`Chat transcript (decrypted on this device)\n\n${lines.join('\n')}\n`], { type: 'text/plain' });
  const url = URL.createObjectURL(blob);
  const a = h('a', { attrs: { href: url, download: `chat-transcript-${new Date().toISOString().slice(0, 10)}.txt` } });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

async function boot() {
  if (!/^[0-9a-f]{64}$/.test(pinned) || !/^[0-9a-f]{32}$/.test(inbox)) {
    fatal('This chat is not set up correctly', 'The embed snippet must carry the organisation fingerprint and the inbox id.');
    return;
  }
  layout();
  form.addEventListener('submit', (e) => void onSubmit(e));
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  input.addEventListener('input', onTyping);
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && !document.querySelector('dialog[open]')) post({ type: 'confide:close' });
  });
  document.addEventListener('visibilitychange', markRead);
  window.addEventListener('message', (e) => {
    if (e.origin !== hostOrigin || e.source !== window.parent) return;
    const data = e.data as { type?: unknown } | null;
    if (data?.type === 'confide:open') input.focus();
  });
  cores = await loadCores();
  const org = await api<Organisation>('GET', '/api/v1/organisation');
  device = await loadDevice();
  try {
    device.pin(org.org_id, org.root_key, pinned);
  } catch (e) {
    if (codeOf(e) === 'root_key_mismatch') {
      fatal('Secure connection refused', "The chat server did not prove it belongs to this company (its key does not match the website's). Nothing was sent.");
      return;
    }
    throw e;
  }
  const checkpoint = await ks.get<Uint8Array>(`checkpoint:${inbox}`);
  if (checkpoint) device.restoreCheckpoint(checkpoint);
  await syncInbox();
  await resume();
  input.disabled = false;
  sendButton.disabled = false;
  app.setAttribute('aria-busy', 'false');
  app.dataset['ready'] = 'true';
  // Like the Rust SDK: the verified view is refreshed at least every minute,
  // so a membership change (a device removed) reaches this page.
  setInterval(() => void syncInbox().catch(() => undefined), 60_000);
  input.focus();
  post({ type: 'confide:ready' });
}

boot().catch((e: unknown) => {
  console.error(e);
  fatal('The chat is unavailable', `Please try again later (${e instanceof ApiError ? e.code : codeOf(e)}).`);
});
