import diagnosticsChannel from 'node:diagnostics_channel';

/**
 * Every diagnostics channel tsreactor publishes, in one table, named
 * `tsreactor:<area>:<event>`. Messages are built and published only while a
 * channel has subscribers: every call site reads `hasSubscribers` before it
 * builds anything (no message, no closure), so an unobserved server pays
 * one property read per event.
 *
 * | channel | when | message |
 * |---|---|---|
 * | `tsreactor:reactor:poll` | a poll resolved | `{ events, timersFired, woken }` |
 * | `tsreactor:server:listen` | a server socket is bound | `{ fd, host, port, family }` |
 * | `tsreactor:server:accept` | a connection was accepted | `{ fd, id, remoteAddress, remotePort }` |
 * | `tsreactor:server:drop` | a connection was refused or could not be accepted (reason `'max-connections'`, `'accept-failed'`, or `'no-descriptors'` from a backend out of descriptors) | `{ fd, reason, code? }` |
 * | `tsreactor:connection:close` | a connection ended | `{ id, fd, reason, bytesRead, bytesWritten, durationMs }` |
 * | `tsreactor:connection:idle` | a connection was cut at its idle timeout | `{ id, fd, idleMs }` |
 * | `tsreactor:loop:error` | a callback threw | `{ error, id? }` |
 * | `tsreactor:loop:slow` | a callback ran longer than the threshold | `{ callback, durationMs, id? }` |
 * | `tsreactor:loop:pressure` | buffered bytes passed the budget, or fell back | `{ bufferedBytes, limit, paused, on }` |
 * | `tsreactor:shutdown:start` | a graceful close began | `{ connections, timeoutMs }` |
 * | `tsreactor:shutdown:end` | it ended | `{ graceful, forced, durationMs }` |
 * | `tsreactor:workers:ready` | (in the primary of `runWorkers`) a worker is serving | `{ id, pid, listening }` |
 * | `tsreactor:workers:exit` | a worker exited | `{ id, pid, code, signal, restart }` (`restart`: the delay in ms before its slot is started again, or `undefined` when it is not) |
 * | `tsreactor:workers:report` | a worker closed gracefully and sent its report | `{ id, pid, report }` |
 *
 * @example
 * ```ts
 * import diagnosticsChannel from 'node:diagnostics_channel';
 *
 * diagnosticsChannel.subscribe('tsreactor:connection:close', (message) => {
 *   console.log('closed', message);
 * });
 * ```
 */
export const Channels = {
  reactorPoll: diagnosticsChannel.channel('tsreactor:reactor:poll'),
  serverListen: diagnosticsChannel.channel('tsreactor:server:listen'),
  serverAccept: diagnosticsChannel.channel('tsreactor:server:accept'),
  serverDrop: diagnosticsChannel.channel('tsreactor:server:drop'),
  connectionClose: diagnosticsChannel.channel('tsreactor:connection:close'),
  connectionIdle: diagnosticsChannel.channel('tsreactor:connection:idle'),
  loopError: diagnosticsChannel.channel('tsreactor:loop:error'),
  loopSlow: diagnosticsChannel.channel('tsreactor:loop:slow'),
  loopPressure: diagnosticsChannel.channel('tsreactor:loop:pressure'),
  shutdownStart: diagnosticsChannel.channel('tsreactor:shutdown:start'),
  shutdownEnd: diagnosticsChannel.channel('tsreactor:shutdown:end'),
  workersReady: diagnosticsChannel.channel('tsreactor:workers:ready'),
  workersExit: diagnosticsChannel.channel('tsreactor:workers:exit'),
  workersReport: diagnosticsChannel.channel('tsreactor:workers:report'),
} as const;

/** The names of all channels, for tools that list them. */
export const CHANNEL_NAMES: readonly string[] = Object.values(Channels).map((c) => String(c.name));
