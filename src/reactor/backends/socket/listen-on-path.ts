import { lstatSync, unlinkSync } from 'node:fs';
import * as net from 'node:net';
import { type SocketPathHolder, socketPathInUse } from '../socket-path-in-use';

/**
 * Binds a Unix socket listener at `path` through `bind` (which rejects with
 * the system's error), handling what a socket file left at the path means,
 * as the real backends share it: on `EADDRINUSE`, it finds out what holds
 * the path (a connect to it: answered, a server listens; refused, the file
 * is stale), and then either removes a stale file and binds again
 * (`removeStale`) or fails with {@link socketPathInUse}, which says so.
 * A file that is not a socket is never removed. The probe's connection
 * reaches a server that listens there, which sees it open and close at once.
 * Linux's abstract names (a path starting with a NUL byte) have no file:
 * in use means in use.
 * Internal to the backends.
 */
export async function listenOnPath(path: string, removeStale: boolean, bind: () => Promise<void>): Promise<void> {
  try {
    await bind();
    return;
  } catch (err) {
    if ((err as { code?: unknown }).code !== 'EADDRINUSE') throw err;
  }
  const holder = await holderOf(path);
  if (holder !== 'stale' || !removeStale) throw socketPathInUse(path, holder);
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; // gone meanwhile: bind again all the same
  }
  try {
    await bind();
  } catch (err) {
    // Someone else bound it between our unlink and our bind: say who holds it now.
    if ((err as { code?: unknown }).code === 'EADDRINUSE') throw socketPathInUse(path, await holderOf(path));
    throw err;
  }
}

/** What holds `path`: a connect tells a live listener from a stale file (ECONNREFUSED). */
async function holderOf(path: string): Promise<SocketPathHolder> {
  if (path.startsWith('\0')) return 'listening';
  try {
    if (!lstatSync(path).isSocket()) return 'not-a-socket';
  } catch {
    return 'stale'; // removed since the bind failed: nothing holds it any more
  }
  return new Promise((resolve) => {
    const probe = net.connect({ path });
    probe.once('connect', () => {
      probe.destroy();
      resolve('listening');
    });
    probe.once('error', (err: NodeJS.ErrnoException) => {
      probe.destroy();
      // EAGAIN: its backlog is full, so it listens.
      resolve(err.code === 'ECONNREFUSED' || err.code === 'ENOENT' ? 'stale' : 'listening');
    });
  });
}
