/**
 * The `--backend` flag of the example servers: which I/O backend the reactor
 * runs on. `libuv` (the default) is real sockets through `node:net`; `raw` is
 * the raw-handle backend, directly on libuv's TCP handles (where this Node
 * has the bindings it needs: otherwise it says so and exits).
 */
import { type Backend, LibuvBackend, RawHandleBackend } from '../src';

export type BackendName = 'libuv' | 'raw';

/** A new backend by name; a RangeError naming the flag for any other name. */
export function backendNamed(name: string): Backend {
  if (name === 'libuv') return new LibuvBackend();
  if (name === 'raw') return new RawHandleBackend();
  throw new RangeError(`--backend must be 'libuv' or 'raw', got '${name}'`);
}
