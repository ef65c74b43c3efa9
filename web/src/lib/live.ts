// Live delivery over one WebSocket (`/api/v1/ws`, protocol in
// crates/server/src/api/ws.rs): the browser cannot set headers on a
// WebSocket, so the token goes in the first message `{"type":"auth"}`,
// never in the URL. Each followed conversation is (re)subscribed with
// `after` = the last seq handed to the page, so after any disconnect —
// network, server restart, slow-consumer cut-off — the stream resumes
// with no gap and no duplicate. Reconnects back off from 250 ms to 5 s.
// A refused credential (close 4001) ends the connection for good.

export type LiveState = 'connecting' | 'online' | 'offline';

export interface LiveHandlers {
  /** A stored envelope, in seq order per conversation. Resolve when handled. */
  envelope(conversation: string, seq: number, envelope: string, receivedAt: number, live: boolean): Promise<void>;
  /** The backlog up to `seq` was delivered; live envelopes follow. */
  caughtUp?(conversation: string, seq: number): void;
  typing?(conversation: string, who: string): void;
  read?(conversation: string, who: string, seq: number): void;
  state?(state: LiveState, reason?: string): void;
  /** A subscription failed (e.g. `not_found`) or, with no conversation, the credentials. */
  failed?(conversation: string | null, code: string, message: string): void;
}

interface Follow {
  last: number;
  caughtUp: boolean;
  queue: Promise<void>;
}

type Frame =
  | { type: 'ready'; role: string }
  | { type: 'subscribed'; conversation: string; seq: number }
  | { type: 'envelope'; conversation: string; seq: number; envelope: string; received_at: number }
  | { type: 'typing'; conversation: string; who: string }
  | { type: 'read'; conversation: string; who: string; seq: number }
  | { type: 'error'; code: string; message: string; conversation?: string | null }
  | { type: 'unsubscribed'; conversation: string };

export class Live {
  private ws: WebSocket | undefined;
  private follows = new Map<string, Follow>();
  private backoff = 250;
  private closed = false;
  private ready = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  state: LiveState = 'connecting';

  constructor(
    private auth: { scheme: 'visitor' | 'bearer'; token: string } | null,
    private handlers: LiveHandlers,
  ) {
    this.connect();
  }

  follow(conversation: string, after = 0): void {
    if (this.follows.has(conversation)) return;
    this.follows.set(conversation, { last: after, caughtUp: false, queue: Promise.resolve() });
    if (this.ready) this.send({ type: 'subscribe', conversation, after });
  }

  unfollow(conversation: string): void {
    if (!this.follows.delete(conversation)) return;
    if (this.ready) this.send({ type: 'unsubscribe', conversation });
  }

  typing(conversation: string): void {
    if (this.ready && this.follows.has(conversation)) this.send({ type: 'typing', conversation });
  }

  markRead(conversation: string, seq: number): void {
    if (this.ready && this.follows.has(conversation)) this.send({ type: 'read', conversation, seq });
  }

  /** The last seq handed to the page for a conversation. */
  last(conversation: string): number {
    return this.follows.get(conversation)?.last ?? 0;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.ws?.close(1000, 'bye');
    this.ws = undefined;
    this.follows.clear();
  }

  private setState(s: LiveState, reason?: string) {
    if (this.state === s) return;
    this.state = s;
    this.handlers.state?.(s, reason);
  }

  private send(msg: unknown) {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
  }

  private connect() {
    if (this.closed) return;
    const url = new URL('/api/v1/ws', location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(url);
    this.ws = ws;
    this.ready = false;
    ws.onopen = () => {
      if (this.auth) ws.send(JSON.stringify({ type: 'auth', scheme: this.auth.scheme, token: this.auth.token }));
    };
    ws.onmessage = (ev) => {
      let frame: Frame;
      try {
        frame = JSON.parse(String(ev.data)) as Frame;
      } catch {
        return;
      }
      this.handle(frame);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      this.ready = false;
      if (this.closed) return;
      if (ev.code === 4001) {
        this.closed = true;
        this.setState('offline', 'unauthorized');
        this.handlers.failed?.(null, 'unauthorized', 'the session is no longer valid');
        return;
      }
      this.setState('offline', ev.reason || 'connection lost');
      this.timer = setTimeout(() => this.connect(), this.backoff);
      this.backoff = Math.min(this.backoff * 2, 5000);
    };
  }

  private handle(frame: Frame) {
    switch (frame.type) {
      case 'ready':
        this.ready = true;
        this.backoff = 250;
        for (const [conversation, f] of this.follows) {
          f.caughtUp = false;
          this.send({ type: 'subscribe', conversation, after: f.last });
        }
        this.setState('online');
        break;
      case 'envelope': {
        const f = this.follows.get(frame.conversation);
        if (!f) return;
        // Handle in order, one at a time; skip what was already handed over.
        f.queue = f.queue.then(async () => {
          if (frame.seq <= f.last || this.follows.get(frame.conversation) !== f) return;
          try {
            await this.handlers.envelope(frame.conversation, frame.seq, frame.envelope, frame.received_at, f.caughtUp);
          } finally {
            f.last = Math.max(f.last, frame.seq);
          }
        });
        break;
      }
      case 'subscribed': {
        const f = this.follows.get(frame.conversation);
        if (!f) return;
        f.queue = f.queue.then(() => {
          f.caughtUp = true;
          this.handlers.caughtUp?.(frame.conversation, frame.seq);
        });
        break;
      }
      case 'typing':
        this.handlers.typing?.(frame.conversation, frame.who);
        break;
      case 'read':
        this.handlers.read?.(frame.conversation, frame.who, frame.seq);
        break;
      case 'error':
        if (frame.conversation) {
          this.follows.delete(frame.conversation);
          this.handlers.failed?.(frame.conversation, frame.code, frame.message);
        }
        break;
      default:
        break;
    }
  }
}
