import { Reactor, SimulatedBackend } from '../../src';
import { startUppercaseServer } from '../../examples/uppercase-server';

describe('the uppercase server, on a simulated network', () => {
  let sim: SimulatedBackend;
  let reactor: Reactor<never>;

  beforeEach(async () => {
    sim = new SimulatedBackend({ seed: 1, latencyMs: 2 });
    reactor = new Reactor({ backend: sim });
    await startUppercaseServer({ reactor, port: 7100, idleTimeoutMs: 30_000 });
  });

  afterEach(() => reactor.close());

  test('answers each line, even when it arrives in pieces', async () => {
    const client = sim.connect(7100);
    client.write('hel');
    client.write('lo\nwor');
    client.write('ld\n');
    expect((await client.waitFor(12)).toString()).toBe('HELLO\nWORLD\n');
  });

  test('closes a connection after 30 s of silence, in no time at all', async () => {
    const client = sim.connect(7100);
    client.write('ping\n');
    await client.waitFor(5);
    const answeredAt = sim.clock.now();
    await client.waitEnd(); // the server's FIN
    expect(sim.clock.now() - answeredAt).toBeGreaterThanOrEqual(30_000);
    expect(sim.clock.now() - answeredAt).toBeLessThan(30_010);
  });

  test('activity keeps a connection open past the first timeout', async () => {
    const client = sim.connect(7100);
    for (let i = 0; i < 5; i++) {
      client.write(`line ${i}\n`);
      await client.waitFor((i + 1) * 7);
      sim.run(sim.clock.now() + 20_000); // 20 s of silence each time: under the timeout
    }
    expect(client.ended).toBe(false);
    expect(sim.clock.now()).toBeGreaterThan(100_000);
  });

  test('a client that resets does not disturb the others', async () => {
    const rude = sim.connect(7100);
    const polite = sim.connect(7100);
    rude.write('half a li');
    rude.reset();
    polite.write('still served\n');
    expect((await polite.waitFor(13)).toString()).toBe('STILL SERVED\n');
  });
});
