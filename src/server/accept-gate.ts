import { Channels } from '../diagnostics';
import { Interest, type Reactor, type ReactorError } from '../reactor';
import type { ConnectionHandlers } from './connection';
import type { ConnectionRegistry } from './connection-registry';
import type { Logger } from './logger';
import type { Metrics } from './metrics';
import type { ServerSocket, SocketManager } from './socket-manager';

/** A listening socket an event loop accepts on. */
export interface ServerEntry {
  fd: number;
  /** Its own handlers, or undefined for the loop's current ones (`setHandlers`). */
  handlers: ConnectionHandlers | undefined;
  server: ServerSocket | undefined;
  /** Why accepting is paused, if it is. */
  paused: 'max-connections' | 'accept-failed' | undefined;
}

/** What the gate needs of its event loop. */
export interface AcceptGateLoop {
  readonly reactor: Reactor;
  readonly registry: ConnectionRegistry;
  readonly metrics: Metrics;
  readonly socketManager: SocketManager;
  readonly logger: Logger;
  /** The server sockets, by fd. */
  readonly servers: ReadonlyMap<number, ServerEntry>;
  /** How long to wait before accepting again after an accept failed (EMFILE). */
  readonly acceptRetryMs: number;
  /** The loop is closing (or closed): accept nothing more. */
  closing(): boolean;
  /** Serves a connection just accepted on `server`. */
  serve(fd: number, server: ServerEntry): void;
}

/**
 * When an event loop accepts, and when it stops. A listener's readiness
 * means connections wait: the gate accepts them all, unless
 * - the registry is full with the `'pause-accepting'` policy: accepting
 *   pauses (the listener is unregistered, so the kernel's backlog holds the
 *   rest and, past it, their SYNs are dropped and retried) until a
 *   connection closes;
 * - it is full with the `'reject'` policy: each is accepted and closed at
 *   once (counted as a drop);
 * - `accept` fails (EMFILE, ENFILE: out of descriptors): accepting pauses,
 *   and is tried again after `acceptRetryMs`, or sooner when a connection
 *   closes and frees a descriptor. The loop does not spin on a listener it
 *   cannot accept from.
 */
export class AcceptGate {
  readonly #loop: AcceptGateLoop;
  #retry = 0;

  constructor(loop: AcceptGateLoop) {
    this.#loop = loop;
  }

  /** `server` is readable: accept what waits. */
  accept(server: ServerEntry): void {
    const loop = this.#loop;
    for (;;) {
      if (loop.closing()) return;
      if (loop.registry.full && loop.registry.policy === 'pause-accepting') {
        this.#pause(server, 'max-connections');
        return;
      }
      let fd: number | null;
      try {
        fd = server.server !== undefined ? loop.socketManager.acceptConnection(server.fd) : loop.reactor.accept(server.fd);
      } catch (err) {
        const code = (err as ReactorError).code;
        loop.metrics.loopDrops++;
        if (Channels.serverDrop.hasSubscribers) Channels.serverDrop.publish({ fd: server.fd, reason: 'accept-failed', code });
        loop.logger.warn(`accept failed (${code}); trying again in ${loop.acceptRetryMs} ms, or when a connection closes`, {
          fd: server.fd,
        });
        this.#pause(server, 'accept-failed');
        if (this.#retry === 0) this.#retry = loop.reactor.timers.schedule(loop.acceptRetryMs, this.#onRetry);
        return;
      }
      if (fd === null) return;
      if (loop.registry.full) {
        // Policy 'reject': accepted only to be closed.
        loop.reactor.close(fd);
        loop.metrics.loopDrops++;
        if (Channels.serverDrop.hasSubscribers) Channels.serverDrop.publish({ fd: server.fd, reason: 'max-connections' });
        continue;
      }
      loop.serve(fd, server);
    }
  }

  /** A connection closed (room, and a descriptor, came free): accept again where paused. */
  resume(): void {
    const loop = this.#loop;
    for (const server of loop.servers.values()) {
      if (server.paused === undefined || (server.paused === 'max-connections' && loop.registry.full)) continue;
      server.paused = undefined;
      loop.reactor.register(server.fd, Interest.READABLE, { token: server }); // reports waiting connections
    }
  }

  /** The loop closes: no retry is pending any more. */
  stop(): void {
    if (this.#retry !== 0) this.#loop.reactor.timers.cancel(this.#retry);
    this.#retry = 0;
  }

  readonly #onRetry = (): void => {
    this.#retry = 0;
    if (!this.#loop.closing()) this.resume();
  };

  #pause(server: ServerEntry, why: 'max-connections' | 'accept-failed'): void {
    if (server.paused !== undefined) return;
    server.paused = why;
    this.#loop.reactor.unregister(server.fd);
  }
}
