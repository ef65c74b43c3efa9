// Loads the WebAssembly cores lazily: the first call fetches and compiles
// /assets/confide.wasm (streaming), later calls share the same module.
import init, * as cores from '../../build/wasm/confide_wasm.js';

export type Cores = typeof cores;
export type { Device, SealedEnvelope } from '../../build/wasm/confide_wasm.js';

let loading: Promise<Cores> | undefined;

export function loadCores(): Promise<Cores> {
  loading ??= init({ module_or_path: new URL('/assets/confide.wasm', location.origin) }).then(() => cores);
  return loading;
}

/** The stable code of an error thrown by the cores (or `internal`). */
export function codeOf(e: unknown): string {
  if (e && typeof e === 'object' && 'code' in e && typeof (e as { code: unknown }).code === 'string') {
    return (e as { code: string }).code;
  }
  return 'internal';
}

export const nowSeconds = () => Date.now() / 1000;
