// One conversation as a page holds it: its messages (decrypted in the
// WebAssembly, kept only in memory), sending with the Rust SDK's rules
// (crates/client/src/conversation.rs) and opening with its order of checks
// (crates/client/src/message.rs):
//
// * send: seal on this device; post the *same bytes* again on a transport
//   failure or 5xx (the server stores them once); when the server says the
//   statements moved on (`stale_statement`, …) sync the inbox and re-seal
//   under the same counter; the message is "delivered" only once the
//   server acknowledged it — after its commit — with the hash we sealed;
// * open: verify → decrypt → replay guard in the WebAssembly; when the
//   envelope names statements this view lacks, sync once and try again
//   (the Live rule then admits a sender of the previous membership only if
//   it may still send). An envelope that fails is never shown as a message.
import { api, ApiError, sleep, type Appended, type Auth } from './api';
import { codeOf, nowSeconds, type Cores, type Device } from './wasm';

export interface Sender {
  device: string;
  kind: 'visitor' | 'member';
  role?: string;
  alias?: string;
  current: boolean;
  me: boolean;
}

export interface Identity {
  status: 'verified' | 'invalid';
  code?: string;
  subject?: string;
  name?: string;
  email?: string;
}

export interface Message {
  /** The envelope hash (also the key of a message being sent). */
  hash: string;
  seq: number | undefined;
  text: string;
  internal: boolean;
  mine: boolean;
  sender: Sender | undefined;
  state: 'sending' | 'waiting' | 'delivered' | 'failed' | 'received';
  error?: string;
  receivedAt: number;
  identity?: Identity | undefined;
}

interface Opened {
  sender: Sender;
  internal: boolean;
  instance: string;
  counter: number;
  hash: string;
  reply_to: string | null;
  text: string;
  identity?: Identity;
}

export interface ThreadContext {
  cores: Cores;
  device: Device;
  auth(): Auth;
  /** Fetches and verifies the inbox's statements into the device. */
  sync(inbox: string): Promise<void>;
  /** `X-Confide-Device` for staff sends. */
  deviceHeader?: string;
}

const RESEAL = new Set(['stale_statement', 'unknown_statement', 'membership_expired', 'rotation_required']);
const MAX_RESEALS = 3;
/** How long a send keeps retrying while the server is unreachable. */
const SEND_PATIENCE_MS = 120_000;

export class Thread {
  messages: Message[] = [];
  rejected = 0;
  /** The other side's read marker. */
  readByOther = 0;

  constructor(
    private ctx: ThreadContext,
    readonly id: string,
    readonly inbox: string,
    private changed: () => void,
  ) {}

  /** Opens one stored envelope (from the WebSocket or catch-up). */
  async receive(seq: number, envelope: string, receivedAt: number, live: boolean): Promise<Message | undefined> {
    const { device, cores } = this.ctx;
    let json: string;
    try {
      try {
        json = device.open(this.id, envelope, live, false, nowSeconds());
      } catch (e) {
        if (!cores.needsSync(codeOf(e))) throw e;
        await this.ctx.sync(this.inbox);
        json = device.open(this.id, envelope, live, true, nowSeconds());
      }
    } catch (e) {
      const code = codeOf(e);
      // An envelope this device may not read (a note for a visitor, an old
      // generation) or one that fails a check is not shown.
      if (code !== 'not_a_recipient') this.rejected += 1;
      console.warn(`envelope ${seq} of ${this.id.slice(0, 8)} refused: ${code}`);
      return undefined;
    }
    const m = JSON.parse(json) as Opened;
    const existing = this.messages.find((x) => x.hash === m.hash);
    if (existing) {
      existing.seq = seq;
      existing.state = 'delivered';
      existing.receivedAt = receivedAt;
      this.changed();
      return existing;
    }
    const msg: Message = {
      hash: m.hash,
      seq,
      text: m.text,
      internal: m.internal,
      mine: m.sender.me,
      sender: m.sender,
      state: m.sender.me ? 'delivered' : 'received',
      receivedAt,
      identity: m.identity,
    };
    this.insert(msg);
    return msg;
  }

  private insert(msg: Message) {
    this.messages.push(msg);
    this.messages.sort((a, b) => (a.seq ?? Infinity) - (b.seq ?? Infinity));
    this.changed();
  }

  /** Seals and sends `text`; resolves once the server stored it (or failed for good). */
  async send(text: string, note = false): Promise<Message> {
    const { device, cores } = this.ctx;
    let sealed;
    for (let attempt = 0; ; attempt++) {
      try {
        sealed = device.seal(this.id, text, note, 0, nowSeconds());
        break;
      } catch (e) {
        if (attempt >= MAX_RESEALS || !cores.needsSync(codeOf(e))) throw e;
        await this.ctx.sync(this.inbox);
      }
    }
    const msg: Message = {
      hash: sealed.hash,
      seq: undefined,
      text,
      internal: note,
      mine: true,
      sender: undefined,
      state: 'sending',
      receivedAt: nowSeconds(),
    };
    this.insert(msg);
    let bytes = sealed.bytes;
    const counter = sealed.counter;
    sealed.free();
    let reseals = 0;
    let delay = 100;
    const started = Date.now();
    for (;;) {
      try {
        const headers: Record<string, string> = {};
        if (this.ctx.deviceHeader) headers['X-Confide-Device'] = this.ctx.deviceHeader;
        const ack = await api<Appended>('POST', `/api/v1/conversations/${this.id}/envelopes`, {
          auth: this.ctx.auth(),
          bytes,
          headers,
        });
        if (ack.hash !== msg.hash) throw new ApiError(502, 'bad_response', 'the server acknowledged another envelope');
        // The WebSocket echo may have delivered it already.
        if (msg.seq === undefined) msg.seq = ack.seq;
        msg.state = 'delivered';
        this.messages.sort((a, b) => (a.seq ?? Infinity) - (b.seq ?? Infinity));
        this.changed();
        return msg;
      } catch (e) {
        const err = e instanceof ApiError ? e : new ApiError(0, codeOf(e), String(e));
        if (RESEAL.has(err.code) && reseals < MAX_RESEALS) {
          reseals += 1;
          await this.ctx.sync(this.inbox);
          const again = device.seal(this.id, text, note, counter, nowSeconds());
          bytes = again.bytes;
          msg.hash = again.hash;
          again.free();
          continue;
        }
        if (err.transient && Date.now() - started < SEND_PATIENCE_MS) {
          if (msg.state !== 'waiting') {
            msg.state = 'waiting';
            this.changed();
          }
          await sleep(delay);
          delay = Math.min(delay * 2, 3000);
          continue;
        }
        msg.state = 'failed';
        msg.error = err.message;
        this.changed();
        throw err;
      }
    }
  }

  /** The highest seq of a message from the other side. */
  lastReceived(): number {
    let s = 0;
    for (const m of this.messages) if (!m.mine && m.seq !== undefined) s = Math.max(s, m.seq);
    return s;
  }

  /** Drops every decrypted text (idle lock, leaving). */
  wipe(): void {
    for (const m of this.messages) m.text = '';
    this.messages = [];
  }
}
