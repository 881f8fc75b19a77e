/**
 * A fuzz of the HTTP example, in one process on the simulated network (so
 * twenty thousand connections take seconds, and a seed replays a run):
 * seeded mutations of valid requests (bytes flipped, inserted, deleted,
 * lines doubled, CRLF turned into LF, truncations, huge numbers, long
 * targets, floods of empty lines), each on its own connection, which the
 * client half-closes. Every answer must be a well-formed HTTP/1.1 status
 * line (or no answer at all), no handler may throw, and nothing may stay
 * open once the clients have gone.
 */
import { startHttpServer } from '../../examples/http-server';
import { EventLoop, Reactor, SimulatedBackend } from '../../src';
import { SeededRandom } from '../../src/reactor/backends/simulated/seeded-random';
import { count, type StressRow } from './stress-row';

const CORPUS = [
  'GET / HTTP/1.1\r\nHost: x\r\n\r\n',
  'GET /stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
  'HEAD / HTTP/1.1\r\nHost: x\r\n\r\n',
  'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello',
  'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\nX-T: y\r\n\r\n',
  'POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc',
  'OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n',
  'GET http://x/?q=1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n',
];

const INSERTS = [
  '\r\n',
  '\n',
  '\r',
  ' ',
  '\t',
  ':',
  '\0',
  '\x7f',
  '\xff',
  'Content-Length: 99999999999999999\r\n',
  'Transfer-Encoding: chunked\r\n',
  `/${'a'.repeat(20_000)}`,
  '\r\n'.repeat(50),
  ';'.repeat(300),
  'ffffffffffffffff\r\n',
];

function mutate(random: SeededRandom, input: string): string {
  let text = input;
  for (let round = 1 + random.int(3); round > 0; round--) {
    const at = random.int(text.length + 1);
    switch (random.int(7)) {
      case 0: // flip a byte
        text = text.slice(0, at) + String.fromCharCode(random.int(256)) + text.slice(at + 1);
        break;
      case 1:
        text = text.slice(0, at) + INSERTS[random.int(INSERTS.length)] + text.slice(at);
        break;
      case 2: // delete a range
        text = text.slice(0, at) + text.slice(at + 1 + random.int(8));
        break;
      case 3: // double a line
        {
          const lines = text.split('\r\n');
          const i = random.int(lines.length);
          lines.splice(i, 0, lines[i]);
          text = lines.join('\r\n');
        }
        break;
      case 4:
        text = text.replaceAll('\r\n', random.chance(0.5) ? '\n' : '\r');
        break;
      case 5:
        text = text.slice(0, at);
        break;
      default: // another request glued on
        text += CORPUS[random.int(CORPUS.length)];
    }
  }
  return text;
}

const STATUS_LINE = /^HTTP\/1\.1 [1-5]\d\d [^\r\n]*\r\n/;

export async function httpFuzz({ inputs, seed }: { inputs: number; seed: number }): Promise<StressRow> {
  const sim = new SimulatedBackend({ seed });
  const loop = new EventLoop({ reactor: new Reactor({ backend: sim }), idleTimeoutMs: 5_000 });
  await startHttpServer({ loop, host: '127.0.0.1', port: 80, maxBodyBytes: 64 * 1024 });
  const running = loop.run();
  const random = new SeededRandom(seed);
  const statuses = new Map<string, number>();
  let malformed = 0;
  const BATCH = 100;
  for (let start = 0; start < inputs; start += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, inputs - start) }, () => {
      const client = sim.connect(80);
      client.write(Buffer.from(mutate(random, CORPUS[random.int(CORPUS.length)]), 'latin1'));
      client.end();
      return client;
    });
    for (const client of batch) {
      await client.waitEnd();
      const answer = client.received().toString('latin1');
      client.close();
      if (answer === '') {
        statuses.set('none', (statuses.get('none') ?? 0) + 1);
        continue;
      }
      for (const response of answer.split(/(?=HTTP\/1\.1 \d\d\d )/)) {
        if (!STATUS_LINE.test(response)) {
          malformed++;
          continue;
        }
        const status = response.slice(9, 12);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    }
  }
  for (let i = 0; i < 1_000 && loop.registry.size > 0; i++) await new Promise((resolve) => setImmediate(resolve));
  const leaked = loop.registry.size + loop.reactor.lingering().length;
  const errors = loop.metrics.callbackErrors;
  await loop.close({ timeoutMs: 0 });
  await running;
  const lost = malformed + errors;
  return {
    name: 'HTTP example fuzz (simulator)',
    load: `${count(inputs)} connections, one mutated request (or more) each`,
    faults: '-',
    badInputs: `${count(inputs)} fuzzed inputs (seed ${seed})`,
    lost,
    leaked,
    target: 'a well-formed status line or none, no handler error, nothing left open',
    met: lost === 0 && leaked === 0,
    notes: [...statuses]
      .sort()
      .map(([status, n]) => `${status}: ${count(n)}`)
      .join(', '),
  };
}
