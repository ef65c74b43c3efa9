// Secrets at rest in the browser: an IndexedDB store whose secret values
// (device keys, visitor tokens) are encrypted with AES-GCM under a
// WebCrypto key generated *non-extractable*: the page can use it but no
// script can read its bytes, so a copy of the browser profile's database
// holds only ciphertext and a key handle bound to this origin.
//
// Each origin (the chat frame's, the console's) has its own database.

const DB = 'confide';
const STORE = 'kv';
const WRAPPING_KEY = 'wrapping-key';

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB unavailable'));
  });
}

async function tx<T>(mode: IDBTransactionMode, f: (s: IDBObjectStore) => IDBRequest): Promise<T> {
  const db = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      const t = db.transaction(STORE, mode);
      const req = f(t.objectStore(STORE));
      t.oncomplete = () => resolve(req.result as T);
      t.onerror = () => reject(t.error ?? new Error('IndexedDB transaction failed'));
      t.onabort = () => reject(t.error ?? new Error('IndexedDB transaction aborted'));
    });
  } finally {
    db.close();
  }
}

export const get = <T>(key: string) => tx<T | undefined>('readonly', (s) => s.get(key));
export const put = (key: string, value: unknown) => tx<void>('readwrite', (s) => s.put(value, key));
export const del = (key: string) => tx<void>('readwrite', (s) => s.delete(key));

async function wrappingKey(): Promise<CryptoKey> {
  const existing = await get<CryptoKey>(WRAPPING_KEY);
  if (existing) return existing;
  const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
  await put(WRAPPING_KEY, key);
  // Another tab may have raced us: use whichever was stored.
  return (await get<CryptoKey>(WRAPPING_KEY)) ?? key;
}

interface Sealed {
  iv: Uint8Array;
  data: ArrayBuffer;
}

const label = (name: string) => new TextEncoder().encode(`confide/web/v1/${name}`);

/** Stores `secret` under `name`, encrypted; then zeroes the caller's copy. */
export async function putSecret(name: string, secret: Uint8Array): Promise<void> {
  const key = await wrappingKey();
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const data = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: label(name) },
    key,
    secret as Uint8Array<ArrayBuffer>,
  );
  secret.fill(0);
  await put(`secret:${name}`, { iv, data } satisfies Sealed);
}

/** The secret stored under `name`, or undefined. Zero it after use. */
export async function getSecret(name: string): Promise<Uint8Array | undefined> {
  const sealed = await get<Sealed>(`secret:${name}`);
  if (!sealed) return undefined;
  const key = await wrappingKey();
  try {
    const plain = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: sealed.iv as Uint8Array<ArrayBuffer>, additionalData: label(name) },
      key,
      sealed.data,
    );
    return new Uint8Array(plain);
  } catch {
    return undefined; // another wrapping key (storage partly cleared): start over
  }
}

export async function putText(name: string, text: string): Promise<void> {
  await putSecret(name, new TextEncoder().encode(text));
}

export async function getTextSecret(name: string): Promise<string | undefined> {
  const bytes = await getSecret(name);
  if (!bytes) return undefined;
  const text = new TextDecoder().decode(bytes);
  bytes.fill(0);
  return text;
}

export const delSecret = (name: string) => del(`secret:${name}`);
