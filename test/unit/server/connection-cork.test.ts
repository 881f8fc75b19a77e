import { type Connection } from '../../../src';
import { simulatedLoop, waitUntil } from '../../helpers/simulated-loop';

/** Sends made inside onData are gathered and written when it returns (see Connection.send). */
describe('Connection: sends inside onData are written together', () => {
  test('a pipeline of small responses goes out in one write, in order', async () => {
    let conn: Connection | undefined;
    const { sim, loop, running } = await simulatedLoop({
      onData(c, chunk) {
        conn = c;
        for (const request of chunk.toString().split(';').filter(Boolean)) expect(c.send(`<${request}>`)).toBe(true);
      },
    });
    const client = sim.connect(7000);
    client.write('a;b;c;d');
    expect((await client.waitFor(12)).toString()).toBe('<a><b><c><d>');
    expect(conn?.writes).toBe(1);
    await loop.close({ timeoutMs: 0 });
    await running;
  });

  test('sends outside onData are written at once', async () => {
    const writesAfterSend: number[] = [];
    const { sim, loop, running } = await simulatedLoop({
      onConnect(c) {
        c.send('hello ');
        writesAfterSend.push(c.writes);
        c.send('there');
        writesAfterSend.push(c.writes);
      },
    });
    const client = sim.connect(7000);
    expect((await client.waitFor(11)).toString()).toBe('hello there');
    expect(writesAfterSend).toEqual([1, 2]);
    await loop.close({ timeoutMs: 0 });
    await running;
  });

  test('a large send writes what was gathered first, then itself at once, in order', async () => {
    const big = Buffer.alloc(64 * 1024, 0x62);
    let writesDuringHandler = -1;
    const { sim, loop, running } = await simulatedLoop({
      onData(c) {
        c.send('head:');
        c.send(big);
        writesDuringHandler = c.writes;
        c.send(':tail');
      },
    });
    const client = sim.connect(7000);
    client.write('go');
    const received = await client.waitFor(5 + big.length + 5);
    expect(received.subarray(0, 5).toString()).toBe('head:');
    expect(received.subarray(5, 5 + big.length).equals(big)).toBe(true);
    expect(received.subarray(5 + big.length).toString()).toBe(':tail');
    expect(writesDuringHandler).toBe(2); // 'head:' flushed, then the big one, inside the handler
    await loop.close({ timeoutMs: 0 });
    await running;
  });

  test('send then end() inside onData: the data, then the FIN', async () => {
    const { sim, loop, running } = await simulatedLoop({
      onData(c) {
        c.send('bye');
        c.end();
      },
    });
    const client = sim.connect(7000);
    client.write('x');
    await client.waitEnd();
    expect(client.received().toString()).toBe('bye');
    await loop.close({ timeoutMs: 0 });
    await running;
  });

  test('send then destroy() inside onData: the data still goes out, as a direct write would', async () => {
    const { sim, loop, running, closed } = await simulatedLoop({
      onData(c) {
        c.send('last words');
        c.destroy();
      },
    });
    const client = sim.connect(7000);
    client.write('x');
    expect((await client.waitFor(10)).toString()).toBe('last words');
    await waitUntil(() => closed.length === 1);
    expect(closed[0].reason).toBe('destroyed');
    await loop.close({ timeoutMs: 0 });
    await running;
  });

  test('gathered bytes the socket cannot take are queued and sent as it drains, with no onDrain owed', async () => {
    let drains = 0;
    const piece = Buffer.alloc(1000, 0x61);
    const { sim, loop, running } = await simulatedLoop(
      {
        onData(c) {
          for (let i = 0; i < 12; i++) expect(c.send(piece)).toBe(true);
        },
        onDrain() {
          drains++;
        },
      },
      {},
      { sendBufferSize: 2048, receiveBufferSize: 2048 },
    );
    const client = sim.connect(7000);
    client.write('go');
    expect((await client.waitFor(12_000)).equals(Buffer.alloc(12_000, 0x61))).toBe(true);
    expect(drains).toBe(0);
    expect(loop.bufferedBytes).toBe(0);
    await loop.close({ timeoutMs: 0 });
    await running;
  });
});

describe('Connection.needsDrain', () => {
  test('set when a send returns false, cleared when onDrain runs', async () => {
    const seen: boolean[] = [];
    const { sim, loop, running } = await simulatedLoop(
      {
        onConnect(c) {
          seen.push(c.needsDrain);
          seen.push(c.send(Buffer.alloc(50_000)));
          seen.push(c.needsDrain);
        },
        onDrain(c) {
          seen.push(c.needsDrain);
        },
      },
      {},
      { sendBufferSize: 4096, receiveBufferSize: 4096 },
    );
    const client = sim.connect(7000);
    await client.waitFor(50_000);
    await waitUntil(() => seen.length === 4);
    expect(seen).toEqual([false, false, true, false]);
    await loop.close({ timeoutMs: 0 });
    await running;
  });

  test('set when gathered sends leave the queue past the high-water mark: onDrain follows', async () => {
    let drains = 0;
    let conn: Connection | undefined;
    const { sim, loop, running } = await simulatedLoop(
      {
        onData(c) {
          conn = c;
          for (let i = 0; i < 16; i++) c.send(Buffer.alloc(1000, 0x61)); // 16,000 B gathered: all true
        },
        onDrain() {
          drains++;
        },
      },
      { connectionHighWaterMark: 8 * 1024 },
      { sendBufferSize: 2048, receiveBufferSize: 2048 },
    );
    const client = sim.connect(7000);
    client.pause();
    client.write('go');
    await waitUntil(() => conn !== undefined && conn.buffered > 0);
    expect(conn?.needsDrain).toBe(true);
    expect(conn?.reading).toBe(false);
    client.resume();
    await client.waitFor(16_000);
    await waitUntil(() => drains === 1);
    expect(conn?.needsDrain).toBe(false);
    await loop.close({ timeoutMs: 0 });
    await running;
  });
});
