// The agent console (/console): login (with the forced change of a
// one-time password), a console device key generated in the browser and
// kept in IndexedDB wrapped by a non-extractable WebCrypto key, device
// registration (the server certifies it into the user's inboxes), every
// inbox's statements verified from the pinned root fingerprint, then the
// conversations: list by state, assign / close / reopen, reading and
// answering with the guard enforcing the organisation's policy, internal
// notes, typing and read state, links inert with their verdicts.
//
// Idle lock: after the configured inactivity (the server renders it into
// the page; `?lock=SECONDS` can only shorten it) the console closes its
// connection, ends the session, empties the page, drops every reference to
// decrypted text (JavaScript strings cannot be overwritten; they are left
// to the garbage collector) and frees the WebAssembly device, whose keys
// zeroize; the password is needed to go on.
import { api, ApiError, getText, type Auth, type ConversationView, type Organisation } from '../lib/api';
import { $, clock, h, icon, ICONS, replace } from '../lib/dom';
import * as ks from '../lib/keystore';
import { Live } from '../lib/live';
import { checkOutgoing, renderText, type OutgoingCheck } from '../lib/render';
import { Thread, type Message } from '../lib/thread';
import { codeOf, loadCores, nowSeconds, type Cores, type Device } from '../lib/wasm';

interface User {
  id: number;
  email: string;
  display_name: string;
  role: string;
  inboxes: string[];
  must_change_password: boolean;
}

const app = $('#app');
const idleLockSecs = Math.max(1, Number(document.querySelector<HTMLMetaElement>('meta[name="confide-idle-lock"]')?.content) || 300);

// Session state. Everything below `device` is derived from decrypted
// content or keys and is dropped by `wipe()`.
let token: string | undefined;
let user: User | undefined;
let cores: Cores | undefined;
let device: Device | undefined;
let live: Live | undefined;
let policies = new Map<string, string>();
let threads = new Map<string, Thread>();
let conversations: ConversationView[] = [];
let selected: string | undefined;
let tab: 'open' | 'assigned' | 'closed' = 'open';
let seen = new Map<string, number>();
let poll: ReturnType<typeof setInterval> | undefined;
let lastActivity = Date.now();
let locked = false;
let typingFrom = new Map<string, number>();

const auth = (): Auth => (token ? { scheme: 'Bearer', token } : null);

function screen(title: string, ...children: (Node | string | null)[]) {
  replace(app, h('section', { class: 'card' }, h('h1', {}, icon(ICONS.lock), ` ${title}`), ...children));
  app.setAttribute('aria-busy', 'false');
}

function field(id: string, label: string, type: string, autocomplete: string) {
  return h(
    'div',
    { class: 'field' },
    h('label', { attrs: { for: id } }, label),
    h('input', { id, attrs: { type, autocomplete, required: true, name: id } }),
  );
}

function errorLine() {
  return h('p', { class: 'error', attrs: { role: 'alert', 'aria-live': 'assertive' } });
}

function value(id: string): string {
  return ($(`#${id}`) as HTMLInputElement).value;
}

// ---------------------------------------------------------------- login

function loginScreen(message = '') {
  const error = errorLine();
  error.textContent = message;
  const form = h(
    'form',
    { attrs: { action: '#', method: 'post' } },
    field('email', 'E-mail address', 'email', 'username'),
    field('password', 'Password', 'password', 'current-password'),
    error,
    h('button', { attrs: { type: 'submit' } }, 'Sign in'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void login(value('email'), value('password'), error);
  });
  screen('Confide console', h('p', { class: 'muted' }, 'Sign in to answer your customers. Messages are decrypted only on this device.'), form);
  $('#email').focus();
}

async function login(email: string, password: string, error: HTMLElement) {
  error.textContent = '';
  try {
    const res = await api<{ token: string; user: User }>('POST', '/api/v1/auth/login', { json: { email, password }, cookie: true });
    token = res.token;
    user = res.user;
  } catch (e) {
    error.textContent = e instanceof ApiError ? e.message : `Sign-in failed (${codeOf(e)})`;
    return;
  }
  if (user.must_change_password) changePasswordScreen(password);
  else await start();
}

/** `setup`, back to the sign-in screen (nothing kept) if it fails. */
async function start() {
  try {
    await setup();
  } catch (e) {
    console.error(e);
    wipe();
    await endSession();
    loginScreen(`The console could not start (${e instanceof ApiError ? e.message : codeOf(e)}).`);
  }
}

function changePasswordScreen(current: string) {
  const error = errorLine();
  const form = h(
    'form',
    { attrs: { action: '#', method: 'post' } },
    field('new-password', 'New password (at least 12 characters)', 'password', 'new-password'),
    field('confirm-password', 'Repeat the new password', 'password', 'new-password'),
    error,
    h('button', { attrs: { type: 'submit' } }, 'Set password'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void (async () => {
      const next = value('new-password');
      if (next !== value('confirm-password')) {
        error.textContent = 'The two passwords differ.';
        return;
      }
      try {
        await api('POST', '/api/v1/me/password', { auth: auth(), json: { current, new: next }, cookie: true });
        user = await api<User>('GET', '/api/v1/me', { auth: auth(), cookie: true });
      } catch (err) {
        error.textContent = err instanceof ApiError ? err.message : codeOf(err);
        return;
      }
      await start();
    })();
  });
  screen('Choose your password', h('p', { class: 'muted' }, 'You signed in with a one-time password. Choose your own to continue.'), form);
  $('#new-password').focus();
}

// ---------------------------------------------------------------- device and trust

async function syncInbox(inbox: string): Promise<void> {
  if (!device) throw new Error('locked');
  const chain = await getText(`/api/v1/inboxes/${inbox}/chain`);
  const summary = JSON.parse(device.sync(inbox, chain, nowSeconds())) as { policy: string };
  policies.set(inbox, summary.policy);
  const cp = device.checkpoint(inbox);
  if (cp) await ks.put(`checkpoint:${user?.id}:${inbox}`, cp);
}

async function setup() {
  if (!user || !token) return loginScreen();
  screen('Securing this console…', h('p', { class: 'muted', attrs: { role: 'status' } }, 'Verifying the organisation’s keys.'));
  app.setAttribute('aria-busy', 'true');
  cores = await loadCores();
  const org = await api<Organisation>('GET', '/api/v1/organisation');
  // The root fingerprint is pinned on this browser the first time (compare
  // it with the one `confide serve` printed); later loads check against it.
  const pinKey = `pinned-root:${org.org_id}`;
  let pinned = await ks.get<string>(pinKey);
  if (!pinned) {
    pinned = org.root_fingerprint;
    await ks.put(pinKey, pinned);
  }
  const secretName = `console-device:${user.id}`;
  const secret = await ks.getSecret(secretName);
  if (secret) {
    device = cores.Device.restore(secret, true);
    secret.fill(0);
  } else {
    device = cores.Device.generate(true);
    await ks.putSecret(secretName, device.exportSecret());
  }
  try {
    device.pin(org.org_id, org.root_key, pinned);
  } catch (e) {
    if (codeOf(e) === 'root_key_mismatch') {
      screen('The server’s key changed', h('p', { class: 'error' }, 'The organisation root key does not match the one this browser pinned. Do not continue; ask your administrator.'));
      return;
    }
    throw e;
  }
  await api('POST', '/api/v1/devices', {
    auth: auth(),
    cookie: true,
    json: { identity: device.identity(), kind: 'console', label: browserLabel() },
  });
  for (const inbox of user.inboxes) {
    const cp = await ks.get<Uint8Array>(`checkpoint:${user.id}:${inbox}`);
    if (cp) device.restoreCheckpoint(cp);
    await syncInbox(inbox);
  }
  locked = false;
  lastActivity = Date.now();
  live = new Live({ scheme: 'bearer', token }, {
    envelope: async (c, seq, env, at, isLive) => {
      const m = await threads.get(c)?.receive(seq, env, at, isLive);
      if (m?.sender?.kind === 'visitor' && typingFrom.delete(c)) renderConversation();
    },
    caughtUp: () => markRead(),
    typing: (c, who) => {
      if (who !== 'visitor') return;
      typingFrom.set(c, Date.now());
      renderConversation();
      setTimeout(renderConversation, 4100);
    },
    read: (c, who, seq) => {
      const t = threads.get(c);
      if (!t || who !== 'visitor') return;
      t.readByOther = Math.max(t.readByOther, seq);
      renderConversation();
    },
    state: (s) => {
      const b = document.querySelector<HTMLElement>('#live-banner');
      if (b) {
        b.hidden = s === 'online';
        b.textContent = s === 'online' ? '' : 'Offline — reconnecting…';
      }
      app.dataset['live'] = s;
    },
    failed: (c, code) => {
      if (!c && code === 'unauthorized') lock();
    },
  });
  mainScreen();
  await refreshList();
  let tick = 0;
  poll = setInterval(() => {
    void refreshList();
    // The verified views are refreshed at least every minute (as the SDK does).
    if (++tick % 15 === 0) for (const inbox of user?.inboxes ?? []) void syncInbox(inbox).catch(() => undefined);
  }, 4000);
}

function browserLabel(): string {
  const ua = navigator.userAgent;
  const browser = /Firefox\//.test(ua) ? 'Firefox' : /Edg\//.test(ua) ? 'Edge' : /Chrom/.test(ua) ? 'Chromium' : /Safari\//.test(ua) ? 'Safari' : 'Browser';
  return `Console, ${browser}`;
}

// ---------------------------------------------------------------- main screen

const listEl = h('ul', { class: 'conversations', attrs: { 'aria-label': 'Conversations' } });
const paneEl = h('section', { class: 'pane', attrs: { 'aria-label': 'Conversation' } });

function mainScreen() {
  if (!user) return;
  const tabs = h(
    'div',
    { class: 'tabs', attrs: { role: 'group', 'aria-label': 'Conversations by state' } },
    ...(['open', 'assigned', 'closed'] as const).map((t) =>
      h(
        'button',
        {
          attrs: { type: 'button', 'aria-pressed': String(t === tab), 'data-tab': t },
          on: {
            click: () => {
              tab = t;
              mainScreen();
              void refreshList();
            },
          },
        },
        t[0]?.toUpperCase() + t.slice(1),
      ),
    ),
  );
  const snippet = h('pre', { class: 'snippet', attrs: { 'aria-label': 'Embed snippet' } }, 'Computing…');
  void embedSnippet().then((s) => (snippet.textContent = s)).catch(() => (snippet.textContent = 'Unavailable'));
  replace(
    app,
    h(
      'aside',
      { class: 'sidebar' },
      h(
        'header',
        {},
        h('div', { class: 'brand' }, icon(ICONS.lock), ' Confide'),
        h('div', { class: 'me' }, user.display_name || user.email, h('span', { class: 'role' }, user.role)),
        h(
          'div',
          { class: 'row' },
          h('button', { class: 'secondary', attrs: { type: 'button', 'data-action': 'lock' }, on: { click: lock } }, 'Lock'),
          h('button', { class: 'secondary', attrs: { type: 'button' }, on: { click: () => void logout() } }, 'Sign out'),
        ),
      ),
      h('div', { id: 'live-banner', class: 'banner', attrs: { role: 'status', hidden: true } }),
      h('p', { class: 'inboxes' }, `${user.inboxes.length} inbox${user.inboxes.length === 1 ? '' : 'es'}`),
      tabs,
      listEl,
      user.role === 'admin' ? teamPanel() : null,
      h('details', { class: 'embed' }, h('summary', {}, 'Embed the widget'), h('p', { class: 'muted' }, 'Paste this on your website:'), snippet),
    ),
    paneEl,
  );
  app.setAttribute('aria-busy', 'false');
  delete app.dataset['locked'];
  app.dataset['ready'] = 'true';
  renderList();
  renderConversation();
}

/** Administrators add colleagues; the one-time password is shown once. */
function teamPanel(): HTMLElement {
  const out = h('div', { class: 'created', attrs: { 'aria-live': 'polite' } });
  const form = h(
    'form',
    { attrs: { action: '#', method: 'post' } },
    field('new-email', 'E-mail address', 'email', 'off'),
    field('new-name', 'Name (colleagues see it; visitors never do)', 'text', 'off'),
    h(
      'div',
      { class: 'field' },
      h('label', { attrs: { for: 'new-role' } }, 'Role'),
      h('select', { id: 'new-role' }, h('option', { attrs: { value: 'agent' } }, 'Agent'), h('option', { attrs: { value: 'supervisor' } }, 'Supervisor')),
    ),
    h('button', { attrs: { type: 'submit' } }, 'Add to the team'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void (async () => {
      out.replaceChildren();
      try {
        const org = await api<Organisation>('GET', '/api/v1/organisation');
        const inboxes = user?.inboxes.length ? user.inboxes : [org.default_inbox];
        const role = ($('#new-role') as HTMLSelectElement).value;
        const res = await api<{ user: User; one_time_password: string }>('POST', '/api/v1/users', {
          auth: auth(),
          cookie: true,
          json: { email: value('new-email'), display_name: value('new-name'), role, inboxes },
        });
        out.append(
          h('p', {}, `${res.user.email} can now sign in with this one-time password (shown only now):`),
          h('code', { class: 'otp', attrs: { 'data-otp': 'true' } }, res.one_time_password),
        );
        form.reset();
      } catch (err) {
        out.append(h('p', { class: 'error' }, err instanceof ApiError ? err.message : codeOf(err)));
      }
    })();
  });
  return h('details', { class: 'embed team' }, h('summary', {}, 'Team'), form, out);
}

async function embedSnippet(): Promise<string> {
  const org = await api<Organisation>('GET', '/api/v1/organisation');
  const bytes = await (await fetch('/widget.js', { cache: 'no-store' })).arrayBuffer();
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-384', bytes));
  const b64 = btoa(String.fromCharCode(...digest));
  return `<script src="${location.origin}/widget.js" integrity="sha384-${b64}" crossorigin="anonymous" async\n  data-confide-root="${org.root_fingerprint}" data-confide-inbox="${user?.inboxes[0] ?? org.default_inbox}"></script>`;
}

async function refreshList() {
  if (locked || !token) return;
  try {
    const res = await api<{ conversations: ConversationView[] }>('GET', `/api/v1/conversations?state=${tab}&limit=100`, { auth: auth(), cookie: true });
    conversations = res.conversations;
    renderList();
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) lock();
  }
}

function renderList() {
  if (locked) return;
  const items = conversations.map((c) => {
    const unread = c.last_seq > (seen.get(c.id) ?? 0) && c.id !== selected;
    return h(
      'li',
      {},
      h(
        'button',
        {
          class: `conv${c.id === selected ? ' selected' : ''}${unread ? ' unread' : ''}`,
          attrs: { type: 'button', 'data-conversation': c.id, 'aria-current': c.id === selected ? 'true' : undefined },
          on: { click: () => void select(c.id) },
        },
        h('span', { class: 'name' }, `Visitor #${c.visitor.id}`, c.visitor.blocked ? ' (blocked)' : ''),
        h('span', { class: 'meta' }, `${c.state}${c.assignee ? ` · #${c.assignee}` : ''} · ${clock(c.updated_at)}`),
        unread ? h('span', { class: 'dot', attrs: { 'aria-label': 'new messages' } }) : null,
      ),
    );
  });
  replace(listEl, ...(items.length ? items : [h('li', { class: 'empty muted' }, `No ${tab} conversations.`)]));
}

async function select(id: string) {
  if (!device || !cores) return;
  selected = id;
  if (!threads.has(id)) {
    const view = await api<ConversationView>('GET', `/api/v1/conversations/${id}`, { auth: auth(), cookie: true });
    device.openConversation(id, view.descriptor);
    const ctx = { cores, device, auth, sync: syncInbox, deviceHeader: device.deviceId() };
    threads.set(id, new Thread(ctx, id, view.inbox_id, renderConversation));
    live?.follow(id, 0);
  }
  renderList();
  renderConversation();
  $('#reply')?.focus();
}

function current(): ConversationView | undefined {
  return conversations.find((c) => c.id === selected);
}

function identityBadge(t: Thread) {
  const id = t.messages.find((m) => m.identity)?.identity;
  if (id?.status === 'verified') {
    return h('span', { class: 'badge verified', attrs: { 'data-identity': 'verified' } }, `Verified: ${id.name || id.subject || ''}${id.email ? ` <${id.email}>` : ''}`);
  }
  if (id?.status === 'invalid') return h('span', { class: 'badge invalid' }, `Identity token refused (${id.code ?? 'invalid'})`);
  return h('span', { class: 'badge unverified', attrs: { 'data-identity': 'unverified' } }, 'Unverified visitor');
}

async function act(action: 'assign' | 'close' | 'reopen') {
  if (!selected || !user) return;
  const body = action === 'assign' ? { user_id: user.id } : undefined;
  try {
    await api('POST', `/api/v1/conversations/${selected}/${action}`, { auth: auth(), cookie: true, ...(body ? { json: body } : {}) });
  } catch (e) {
    alertLine(e instanceof ApiError ? e.message : codeOf(e));
  }
  await refreshList();
  renderConversation();
}

function alertLine(text: string) {
  const el = document.querySelector<HTMLElement>('#pane-alert');
  if (el) {
    el.textContent = text;
    el.hidden = !text;
  }
}

function statusOf(t: Thread, m: Message): string {
  switch (m.state) {
    case 'sending':
      return 'Sending…';
    case 'waiting':
      return 'Waiting for the connection…';
    case 'failed':
      return `Not sent: ${m.error ?? ''}`;
    case 'delivered':
      return !m.internal && m.seq !== undefined && t.readByOther >= m.seq ? 'Read' : 'Delivered';
    default:
      return '';
  }
}

let noteMode = false;

/** The pane of the selected conversation; its composer survives updates. */
interface Pane {
  id: string;
  header: HTMLElement;
  alert: HTMLElement;
  rejected: HTMLElement;
  list: HTMLOListElement;
  scroller: HTMLElement;
  typing: HTMLElement;
  guard: HTMLElement;
  reply: HTMLTextAreaElement;
}
let pane: Pane | undefined;

function buildPane(t: Thread): Pane {
  const reply = h('textarea', { id: 'reply', attrs: { rows: '3', maxlength: '4000' } });
  const guard = h('div', { id: 'guard', class: 'guard', attrs: { role: 'alert', hidden: true } });
  const note = h('input', { id: 'note-mode', attrs: { type: 'checkbox' } });
  const submitButton = h('button', { attrs: { type: 'submit' } });
  const form = h(
    'form',
    { class: 'composer', attrs: { action: '#', method: 'post' } },
    h('label', { class: 'visually-hidden', attrs: { for: 'reply' } }, 'Reply'),
    reply,
    h('div', { class: 'composer-row' }, h('label', { class: 'toggle' }, note, ' Internal note'), submitButton),
  );
  const mode = () => {
    form.classList.toggle('note', noteMode);
    note.checked = noteMode;
    reply.placeholder = noteMode ? 'Internal note (only your team sees it)…' : 'Reply to the visitor…';
    submitButton.textContent = noteMode ? 'Add note' : 'Send';
  };
  mode();
  note.addEventListener('change', () => {
    noteMode = note.checked;
    mode();
  });
  reply.addEventListener('input', () => {
    if (!noteMode) live?.typing(t.id);
  });
  reply.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    submit(t, reply.value.trim(), noteMode, guard, policies.get(t.inbox) ?? '');
  });
  const list = h('ol', { class: 'messages', attrs: { role: 'log', 'aria-live': 'polite', 'aria-label': 'Messages' } });
  const typing = h('div', { class: 'typing', attrs: { 'aria-live': 'polite' } });
  const scroller = h('div', { class: 'scroll' }, list, typing);
  const header = h('header', {});
  const alert = h('p', { id: 'pane-alert', class: 'error', attrs: { role: 'alert', hidden: true } });
  const rejected = h('p', { class: 'error', attrs: { hidden: true } });
  replace(paneEl, header, alert, rejected, scroller, guard, form);
  return { id: t.id, header, alert, rejected, list, scroller, typing, guard, reply };
}

function renderConversation() {
  if (locked || !cores) return;
  const t = selected ? threads.get(selected) : undefined;
  const c = current();
  if (!t) {
    pane = undefined;
    replace(paneEl, h('div', { class: 'placeholder muted' }, 'Select a conversation.'));
    return;
  }
  if (pane?.id !== t.id || !paneEl.contains(pane.reply)) pane = buildPane(t);
  const policy = policies.get(t.inbox) ?? '';
  const atBottom = pane.scroller.scrollHeight - pane.scroller.scrollTop - pane.scroller.clientHeight < 40;
  const messages = t.messages.map((m) => {
    const body = h('div', { class: 'text' });
    let warning = '';
    if (m.mine) body.append(m.text);
    else {
      const direction = m.internal ? 'internal_note' : m.sender?.kind === 'visitor' ? 'visitor_to_org' : 'agent_to_visitor';
      warning = renderText(cores as Cores, body, m.text, direction, policy, document.body);
    }
    const who = m.mine ? 'You' : m.sender?.kind === 'visitor' ? 'Visitor' : (m.sender?.alias ?? 'Colleague');
    return h(
      'li',
      { class: `msg ${m.sender?.kind === 'visitor' ? 'theirs' : 'ours'}${m.internal ? ' note' : ''} ${m.state}`, attrs: { 'data-state': m.state, 'data-seq': m.seq?.toString() } },
      h('div', { class: 'who' }, m.internal ? `${who} · internal note` : who, m.receivedAt ? ` · ${clock(m.receivedAt)}` : ''),
      body,
      warning ? h('p', { class: 'reader-warning', attrs: { role: 'note' } }, icon(ICONS.warn), ` ${warning}`) : null,
      m.mine ? h('div', { class: 'status' }, statusOf(t, m)) : null,
    );
  });
  replace(pane.list, ...messages);
  pane.typing.textContent = Date.now() - (typingFrom.get(t.id) ?? 0) < 4000 ? 'The visitor is typing…' : '';
  replace(
    pane.header,
    h('div', {}, h('h2', {}, c ? `Visitor #${c.visitor.id}` : 'Conversation'), identityBadge(t), c ? h('span', { class: `state state-${c.state}` }, c.state) : null),
    h(
      'div',
      { class: 'row' },
      c?.state === 'open' ? h('button', { attrs: { type: 'button', 'data-action': 'assign' }, on: { click: () => void act('assign') } }, 'Assign to me') : null,
      c && c.state !== 'closed' ? h('button', { class: 'secondary', attrs: { type: 'button', 'data-action': 'close' }, on: { click: () => void act('close') } }, 'Close') : null,
      c?.state === 'closed' ? h('button', { class: 'secondary', attrs: { type: 'button', 'data-action': 'reopen' }, on: { click: () => void act('reopen') } }, 'Reopen') : null,
    ),
  );
  pane.rejected.hidden = t.rejected === 0;
  pane.rejected.textContent = t.rejected ? `${t.rejected} stored message(s) failed verification and are not shown.` : '';
  if (atBottom) pane.scroller.scrollTop = pane.scroller.scrollHeight;
  seen.set(t.id, Math.max(seen.get(t.id) ?? 0, ...t.messages.map((m) => m.seq ?? 0)));
  markRead();
}

let lastRead = new Map<string, number>();
function markRead() {
  if (!selected || !live || document.visibilityState !== 'visible') return;
  const t = threads.get(selected);
  if (!t) return;
  const seq = t.lastReceived();
  if (seq > (lastRead.get(t.id) ?? 0)) {
    lastRead.set(t.id, seq);
    live.markRead(t.id, seq);
  }
}

function submit(t: Thread, text: string, note: boolean, panel: HTMLElement, policy: string) {
  if (!text || !cores) return;
  const check: OutgoingCheck = checkOutgoing(cores, note ? 'internal_note' : 'agent_to_visitor', text, policy);
  const doSend = (body: string) => {
    const input = document.querySelector<HTMLTextAreaElement>('#reply');
    if (input) input.value = '';
    panel.hidden = true;
    t.send(body, note).catch((e: unknown) => alertLine(e instanceof ApiError ? e.message : codeOf(e)));
  };
  if (check.decision.action === 'allow') return doSend(text);
  if (check.decision.action === 'mask') return doSend(check.required);
  const block = check.decision.action === 'block';
  replace(
    panel,
    h('p', {}, icon(ICONS.warn), ` ${check.decision.message}`),
    h(
      'div',
      { class: 'actions' },
      !block && check.decision.can_mask ? h('button', { attrs: { type: 'button', 'data-action': 'mask-send' }, on: { click: () => doSend(check.masked) } }, 'Mask and send') : null,
      !block ? h('button', { class: 'secondary', attrs: { type: 'button', 'data-action': 'send-anyway' }, on: { click: () => doSend(text) } }, 'Send anyway') : null,
      h('button', { class: 'secondary', attrs: { type: 'button', 'data-action': 'edit' }, on: { click: () => ((panel.hidden = true), $('#reply').focus()) } }, 'Edit message'),
    ),
  );
  panel.dataset['action'] = check.decision.action;
  panel.hidden = false;
}

// ---------------------------------------------------------------- lock, logout

/** Drops every decrypted text, key and connection from this page. */
function wipe() {
  clearInterval(poll);
  live?.close();
  live = undefined;
  for (const t of threads.values()) t.wipe();
  threads = new Map();
  conversations = [];
  policies = new Map();
  seen = new Map();
  typingFrom = new Map();
  lastRead = new Map();
  selected = undefined;
  pane = undefined;
  listEl.replaceChildren();
  paneEl.replaceChildren();
  device?.free();
  device = undefined;
  for (const d of document.querySelectorAll('dialog')) d.remove();
}

async function endSession() {
  const t = token;
  token = undefined;
  if (t) await api('POST', '/api/v1/auth/logout', { auth: { scheme: 'Bearer', token: t }, cookie: true }).catch(() => undefined);
}

function lock() {
  if (locked || !user) return;
  locked = true;
  wipe();
  void endSession();
  const email = user.email;
  const error = errorLine();
  const form = h(
    'form',
    { attrs: { action: '#', method: 'post' } },
    h('input', { attrs: { type: 'email', autocomplete: 'username', value: email, hidden: true, readonly: true } }),
    field('password', 'Password', 'password', 'current-password'),
    error,
    h('div', { class: 'row' }, h('button', { attrs: { type: 'submit' } }, 'Unlock'), h('button', { class: 'secondary', attrs: { type: 'button' }, on: { click: () => ((user = undefined), loginScreen()) } }, 'Sign in as someone else')),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void login(email, value('password'), error);
  });
  screen('Console locked', h('p', { class: 'muted' }, `Locked after ${Math.round(idleLockSecs / 60) || idleLockSecs + ' s'}${idleLockSecs >= 60 ? ' min' : ''} without activity. Conversations were removed from this page; enter your password to continue.`), form);
  delete app.dataset['ready'];
  delete app.dataset['live'];
  app.dataset['locked'] = 'true';
  $('#password').focus();
}

async function logout() {
  wipe();
  await endSession();
  user = undefined;
  loginScreen();
}

for (const ev of ['pointerdown', 'keydown', 'wheel', 'touchstart'] as const) {
  window.addEventListener(ev, () => (lastActivity = Date.now()), { passive: true });
}
// Browsers send synthetic mouse moves when the page changes under a still
// cursor (a message arriving): only a pointer that really moved counts.
let pointer = '';
window.addEventListener(
  'mousemove',
  (e) => {
    const at = `${e.screenX},${e.screenY}`;
    if (at !== pointer) {
      pointer = at;
      lastActivity = Date.now();
    }
  },
  { passive: true },
);
setInterval(() => {
  if (!locked && device && Date.now() - lastActivity > idleLockSecs * 1000) lock();
}, 1000);
document.addEventListener('visibilitychange', markRead);

loginScreen();
