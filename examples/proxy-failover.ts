/**
 * A proxy in front of two backends, with a health check, in one simulated
 * world (see docs/testing-with-the-simulator.md, "A world of hosts"):
 *
 *   client 10.0.0.9  ->  proxy 10.0.0.1:80  ->  backend-a 10.0.0.2:7000
 *                                           ->  backend-b 10.0.0.3:7000
 *
 * The proxy sends each new client connection to the next healthy backend
 * in turn (a connect that does not complete within 300 ms is tried on the
 * other); every second a `setInterval` pings each backend and marks it down
 * when no PONG comes within 500 ms, up again when one does. At 3.2 s the
 * link between the proxy and backend-a is cut; at 8.2 s it heals. The
 * client asks once a second. Everything runs in virtual time: the
 * program's `setInterval` and `setTimeout` are events of the simulation,
 * so the twelve seconds take a few milliseconds and print the same
 * timeline every run.
 *
 * Run: npx ts-node examples/proxy-failover.ts
 */
import { type Connection, EventLoop, Reactor, type SimulatedHost, SimulatedWorld } from '../src';

const BACKEND_PORT = 7000;
export const PROXY_PORT = 80;

/** A backend: answers `PING` with `PONG`, any other line with its name and the line. */
export async function startBackend(host: SimulatedHost, backlog = 511): Promise<EventLoop> {
  const loop = new EventLoop({ reactor: new Reactor({ backend: host.backend() }) });
  await loop.listen([{ host: '0.0.0.0', port: BACKEND_PORT, backlog }], {
    onData(conn, chunk) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) conn.send(line === 'PING' ? 'PONG\n' : `${host.name}: ${line}\n`);
    },
    onEnd: (conn) => conn.end(),
  });
  void loop.run();
  return loop;
}

/** A backend as the proxy sees it. */
export interface Backend {
  name: string;
  address: string;
  healthy: boolean;
}

/** The proxy: round-robin over the healthy backends, a connect timeout, and a health check on a `setInterval`. */
export async function startProxy(host: SimulatedHost, backends: Backend[], log: (line: string) => void, backlog = 511) {
  const loop = new EventLoop({ reactor: new Reactor({ backend: host.backend(), connectTimeoutMs: 300 }) });
  let turn = 0;

  /** Connects `client` to a healthy backend, trying the others if the connect fails. */
  const forward = (client: Connection<Buffer[]>, tried: Backend[] = []) => {
    const candidates = backends.filter((b) => b.healthy && !tried.includes(b));
    if (candidates.length === 0) {
      client.send('503 no backend\n');
      client.end();
      return;
    }
    const backend = candidates[turn++ % candidates.length];
    let answered = false;
    const upstream = loop.addClient(loop.reactor.connect({ host: backend.address, port: BACKEND_PORT }), {
      onData(_conn, chunk) {
        answered = true;
        client.data = undefined; // answered: nothing to send again
        client.send(chunk);
      },
      onEnd: () => client.end(),
      onClose(_conn, reason, error) {
        if (answered || reason !== 'error') return;
        log(`proxy: ${backend.name} did not answer the connect (${(error as { code?: string } | undefined)?.code}), trying another`);
        forward(client, [...tried, backend]);
      },
    });
    for (const chunk of client.data ?? []) upstream.send(chunk); // what came before this backend was chosen
    (client as Connection<Buffer[]> & { upstream?: Connection }).upstream = upstream;
  };

  await loop.listen([{ host: '0.0.0.0', port: PROXY_PORT, backlog }], {
    onConnect: (client) => forward(client as Connection<Buffer[]>),
    onData(client, chunk) {
      const upstream = (client as Connection & { upstream?: Connection }).upstream;
      upstream?.send(chunk);
      // Kept until a backend answers: if this one never does, the next one gets the request again.
      ((client as Connection<Buffer[]>).data ??= []).push(chunk);
    },
  });

  /** One health check of `backend`: a PONG within 500 ms, or it is down. */
  const check = (backend: Backend) => {
    let done = false;
    const verdict = (healthy: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      probe.destroy();
      if (healthy !== backend.healthy) log(`proxy: health check: ${backend.name} is ${healthy ? 'up again' : 'down'}`);
      backend.healthy = healthy;
    };
    const probe = loop.addClient(loop.reactor.connect({ host: backend.address, port: BACKEND_PORT }), {
      onData: (_conn, chunk) => verdict(chunk.toString().includes('PONG')),
      onClose: () => verdict(false),
    });
    probe.send('PING\n');
    const deadline = setTimeout(() => verdict(false), 500);
  };
  const health = setInterval(() => backends.forEach(check), 1_000);
  void loop.run();
  return { loop, stop: () => clearInterval(health) };
}

/** Runs the scenario; returns the timeline it printed (each line prefixed with the simulated time). */
export async function runProxyFailover(print: (line: string) => void = console.log): Promise<string[]> {
  const world = new SimulatedWorld({ seed: 1, virtualTime: true, latencyMs: 1 });
  const timeline: string[] = [];
  const log = (line: string) => {
    const stamped = `${String(Math.round(performance.now())).padStart(6)} ms  ${line}`;
    timeline.push(stamped);
    print(stamped);
  };
  try {
    const proxyHost = world.host({ name: 'proxy', addresses: ['10.0.0.1'] });
    const backendHosts = [
      world.host({ name: 'backend-a', addresses: ['10.0.0.2'] }),
      world.host({ name: 'backend-b', addresses: ['10.0.0.3'] }),
    ];
    const clientHost = world.host({ name: 'client', addresses: ['10.0.0.9'] });
    const servers = await Promise.all(backendHosts.map((host) => startBackend(host)));
    const backends = backendHosts.map((host) => ({ name: host.name, address: host.addresses[0], healthy: true }));
    const proxy = await startProxy(proxyHost, backends, log);

    setTimeout(() => {
      world.partition(proxyHost, 'backend-a');
      log('world: the link proxy <-> backend-a is cut');
    }, 3_200);
    setTimeout(() => {
      world.heal(proxyHost, 'backend-a');
      log('world: the link proxy <-> backend-a heals');
    }, 8_200);

    for (let request = 1; request <= 12; request++) {
      await new Promise((resolve) => setTimeout(resolve, 1_000 - (performance.now() % 1_000) + 500)); // at n.5 s
      const peer = clientHost.connect(PROXY_PORT, { host: '10.0.0.1' });
      peer.write(`request ${request}\n`);
      log(`client: ${await peer.readLine()}`);
      peer.close();
    }

    proxy.stop();
    await proxy.loop.close();
    for (const server of servers) await server.close();
  } finally {
    await world.close();
  }
  return timeline;
}

if (require.main === module) void runProxyFailover();
