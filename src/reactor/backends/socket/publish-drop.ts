import { Channels } from '../../../diagnostics';

/**
 * Publishes `tsreactor:server:drop` for a connection a backend lost while
 * accepting (reason `'no-descriptors'` for EMFILE/ENFILE, else
 * `'accept-failed'`), if anyone listens: a process out of descriptors
 * shows it there, as it happens, without polling `info()`.
 */
export function publishDrop(fd: number, err: Error): void {
  const code = (err as NodeJS.ErrnoException).code;
  const reason = code === 'EMFILE' || code === 'ENFILE' ? 'no-descriptors' : 'accept-failed';
  if (Channels.serverDrop.hasSubscribers) Channels.serverDrop.publish({ fd, reason, code });
}
