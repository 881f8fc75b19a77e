import { ReactorError } from '../reactor-error';

/**
 * What holds a Unix socket path that a listener could not bind:
 * - `'listening'`: a server accepts connections on it;
 * - `'stale'`: a socket file that nothing listens on, left behind by a
 *   server that ended without closing its listener (killed, crashed);
 * - `'not-a-socket'`: a file or directory of another kind, never removed.
 */
export type SocketPathHolder = 'listening' | 'stale' | 'not-a-socket';

/**
 * The `EADDRINUSE` of a Unix socket path, saying what holds it and what to
 * do: bind(2) itself only says the address is in use, which for a stale
 * socket file (the common case after a crash) sends users looking for a
 * server that is not there. Every backend fails alike with it.
 */
export function socketPathInUse(path: string, holder: SocketPathHolder): ReactorError {
  const why =
    holder === 'listening'
      ? `a server is listening on ${path}: stop it, or choose another path`
      : holder === 'stale'
        ? `${path} is a socket file that nothing listens on (left by a server that ended without closing it): remove it, or listen with removeStale: true`
        : `${path} exists and is not a socket: choose another path (it is never removed)`;
  return new ReactorError('EADDRINUSE', `listen EADDRINUSE: address already in use: ${why}`, { syscall: 'listen', address: path });
}
