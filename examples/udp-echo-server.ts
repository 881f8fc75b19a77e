/**
 * A UDP echo server written directly on `poll`: each datagram goes back to
 * its sender, whole. One poll waits for the datagram socket and for the
 * signals that stop the server (a signal descriptor: `signalfd`).
 *
 * - The socket is edge-triggered: each event means datagrams arrived, so
 *   `recvFrom` until it returns null (EAGAIN).
 * - UDP has no backpressure: a datagram that arrives while the receive
 *   queue is full is dropped by it (and counted), and an answer `sendTo`
 *   cannot take now (the send queue is full) is dropped here and counted.
 *   Neither side is told; UDP protocols resend or give up on their own.
 *
 * Run: npx ts-node examples/udp-echo-server.ts [--host 127.0.0.1] [--port 7008] [--backend libuv|raw]
 * (port 0 picks a free port; the chosen one is printed). Ctrl-C stops it.
 */
import { Events, Interest, Reactor } from '../src';
import { argument } from './argument';
import { backendNamed } from './backend-option';

export interface UdpEchoServer {
  port: number;
  /** Answers not sent because the send queue was full. */
  readonly unanswered: number;
  /** Datagrams the full receive queue dropped (as of the stop, once stopped). */
  readonly dropped: number;
  /** Runs until SIGINT or SIGTERM (or `stop`); resolves once everything is closed. */
  run(): Promise<void>;
  stop(): void;
}

export async function startUdpEchoServer(
  options: { host?: string; port?: number; reactor?: Reactor<'udp' | 'signals'> } = {},
): Promise<UdpEchoServer> {
  const reactor = options.reactor ?? new Reactor<'udp' | 'signals'>();
  const host = options.host ?? '127.0.0.1';
  const fd = await reactor.bind({ host, port: options.port ?? 7008, receiveQueueDatagrams: 4096, receiveQueueBytes: 4 * 1024 * 1024 });
  const signals = reactor.signal(['SIGINT', 'SIGTERM']);
  reactor.register(fd, Interest.READABLE, { trigger: 'edge', token: 'udp' });
  reactor.register(signals, Interest.READABLE, { token: 'signals' });
  let unanswered = 0;
  let dropped = 0;
  let stopping = false;
  return {
    port: reactor.info(fd).localPort as number,
    get unanswered() {
      return unanswered;
    },
    get dropped() {
      return reactor.state === 'open' ? reactor.info(fd).droppedDatagrams : dropped;
    },
    stop() {
      stopping = true;
      reactor.wake();
    },
    async run() {
      const events = new Events<'udp' | 'signals'>();
      while (!stopping) {
        await reactor.poll(events);
        for (const event of events) {
          if (event.token === 'signals' && reactor.readSignals(signals) !== null) stopping = true;
        }
        for (let d = reactor.recvFrom(fd); d !== null; d = reactor.recvFrom(fd)) {
          if (reactor.sendTo(fd, d.data, d.address, d.port) === 0) unanswered++;
        }
      }
      dropped = reactor.info(fd).droppedDatagrams;
      await reactor.close();
    },
  };
}

if (require.main === module) {
  const host = argument('host', '127.0.0.1');
  Promise.resolve()
    .then(() =>
      startUdpEchoServer({
        host,
        port: Number(argument('port', '7008')),
        reactor: new Reactor<'udp' | 'signals'>({ backend: backendNamed(argument('backend', 'libuv')) }),
      }),
    )
    .then(async (server) => {
      console.log(`udp echo server listening on ${host}:${server.port}`);
      await server.run();
      console.log(
        `stopped; dropped: ${server.dropped} datagrams for a full receive queue, ${server.unanswered} answers for a full send queue`,
      );
    })
    .catch((err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    });
}
