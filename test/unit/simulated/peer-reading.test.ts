import { ReactorError } from '../../../src';
import { simulatedLoop } from '../../helpers/simulated-loop';

describe('a simulated peer reads as a protocol test would: lines, counted bytes, up to a delimiter', () => {
  test('readLine, readBytes and readUntil take the answer piece by piece, in order, however it was split', async () => {
    const { sim, loop, running } = await simulatedLoop(
      {
        onData(conn) {
          conn.send('OK 5\r\n');
          conn.send('hel');
          conn.send('lo');
          conn.send('tail;rest\n');
        },
      },
      {},
      { faults: { shortWrite: 0.5 } }, // the answer arrives in pieces of any size
    );
    const client = sim.connect(7000);
    client.write('GET\n');
    expect(await client.readLine()).toBe('OK 5');
    expect((await client.readBytes(5)).toString()).toBe('hello');
    expect((await client.readUntil(';')).toString()).toBe('tail;');
    expect(await client.readLine()).toBe('rest');
    await loop.close({ timeoutMs: 0 });
    await running;
  });

  test('what cannot come rejects: the server ended first (ERR_PEER_ENDED), or bad arguments (RangeError)', async () => {
    const { sim, loop, running } = await simulatedLoop({
      onData(conn) {
        conn.send('no newline here');
        conn.end();
      },
    });
    const client = sim.connect(7000);
    client.write('x');
    const error = await client.readLine().catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ReactorError);
    expect((error as ReactorError).code).toBe('ERR_PEER_ENDED');
    await expect(client.readBytes(-1)).rejects.toThrow(RangeError);
    await expect(client.readUntil('')).rejects.toThrow(RangeError);
    client.close();
    await loop.close({ timeoutMs: 0 });
    await running;
  });
});
