/**
 * The `--backend` flag of the example servers: which I/O backend the reactor
 * runs on. `libuv` (the default) is real sockets through `node:net`; `raw` is
 * the raw-handle backend, directly on libuv's TCP handles (where this Node
 * has the bindings it needs: otherwise it says so and exits).
 */
import { type Backend, LibuvBackend, RawHandleBackend } from '../src';

export type BackendName = 'libuv' | 'raw';

/**
 * A new backend by name; a RangeError naming the flag for any other name.
 * `inboxLimit` (the `--inbox-limit` flag, in bytes) overrides the backend's
 * default: how much a connection may hold unread before reading stops.
 */
export function backendNamed(name: string, options: { inboxLimit?: number } = {}): Backend {
  if (name === 'libuv') return new LibuvBackend(options);
  if (name === 'raw') return new RawHandleBackend(options);
  throw new RangeError(`--backend must be 'libuv' or 'raw', got '${name}'`);
}
