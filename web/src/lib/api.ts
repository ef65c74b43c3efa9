// The REST API of the Confide server this page came from. Errors carry the
// server's stable `code` (docs: /api/v1/openapi.json). Tokens travel only
// in the Authorization header, never in a URL.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }

  /** Worth retrying with the same request (network, 5xx, 429). */
  get transient(): boolean {
    return this.status === 0 || this.status >= 500 || this.status === 429;
  }
}

export type Auth = { scheme: 'Visitor' | 'Bearer'; token: string } | null;

export interface RequestOptions {
  auth?: Auth;
  json?: unknown;
  bytes?: Uint8Array;
  headers?: Record<string, string>;
  /** Send the console's session cookie (same-origin pages only). */
  cookie?: boolean;
}

export async function api<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json', ...(opts.headers ?? {}) };
  if (opts.auth) headers['Authorization'] = `${opts.auth.scheme} ${opts.auth.token}`;
  let body: BodyInit | undefined;
  if (opts.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.json);
  } else if (opts.bytes) {
    headers['Content-Type'] = 'application/octet-stream';
    body = opts.bytes as Uint8Array<ArrayBuffer>;
  }
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      ...(body === undefined ? {} : { body }),
      credentials: opts.cookie ? 'same-origin' : 'omit',
      cache: 'no-store',
      redirect: 'error',
      referrerPolicy: 'no-referrer',
    });
  } catch {
    throw new ApiError(0, 'network', 'the server cannot be reached');
  }
  const text = await res.text().catch(() => '');
  if (!res.ok) {
    let code = `http_${res.status}`;
    let message = res.statusText || 'request failed';
    try {
      const e = JSON.parse(text) as { code?: unknown; message?: unknown };
      if (typeof e.code === 'string') code = e.code;
      if (typeof e.message === 'string') message = e.message;
    } catch {
      // not JSON: keep the status
    }
    throw new ApiError(res.status, code, message);
  }
  return (text ? JSON.parse(text) : undefined) as T;
}

/** The raw JSON text of a GET (for the WebAssembly to parse itself). */
export async function getText(path: string): Promise<string> {
  let res: Response;
  try {
    res = await fetch(path, { credentials: 'omit', cache: 'no-store', redirect: 'error' });
  } catch {
    throw new ApiError(0, 'network', 'the server cannot be reached');
  }
  if (!res.ok) throw new ApiError(res.status, `http_${res.status}`, res.statusText);
  return res.text();
}

export interface Organisation {
  org_id: string;
  default_inbox: string;
  root_key: string;
  root_fingerprint: string;
  mode: string;
}

export interface ConversationView {
  id: string;
  inbox_id: string;
  state: 'open' | 'assigned' | 'closed';
  assignee: number | null;
  visitor: { id: number; device_id: string; identity: string; blocked: boolean };
  server_verified: unknown;
  descriptor: string;
  last_seq: number;
  created_at: number;
  updated_at: number;
}

export interface Appended {
  seq: number;
  hash: string;
  duplicate: boolean;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
