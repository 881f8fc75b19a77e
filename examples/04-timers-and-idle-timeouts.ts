/**
 * Step 4: timers and idle timeouts.
 *
 * `reactor.timers` is a hierarchical timer wheel that `poll` drives: a poll
 * sleeps no longer than the next timer, and fires due timers before it
 * returns. Here it runs on the simulated network, whose clock jumps straight
 * to the next thing that happens, so a 30-second idle timeout takes no time
 * at all and the output is the same on every run.
 *
 * Run: npx ts-node examples/04-timers-and-idle-timeouts.ts
 */
import { EventLoop, Reactor, SimulatedBackend } from '../src';

async function main(): Promise<void> {
  const sim = new SimulatedBackend({ seed: 4 });
  const loop = new EventLoop({ reactor: new Reactor({ backend: sim }), idleTimeoutMs: 30_000 });
  const at = () => `[t=${(sim.clock.now() / 1000).toFixed(1)}s]`;

  loop.timers.schedule(1_000, () => console.log(`${at()} a one-shot timer fires`));
  const heartbeat = loop.timers.every(10_000, (_ctx, missed) => console.log(`${at()} heartbeat (missed ${missed})`));
  loop.timers.schedule(45_000, () => loop.timers.cancel(heartbeat));

  await loop.listen([{ host: '127.0.0.1', port: 7000 }], {
    onData(conn, chunk) {
      console.log(`${at()} connection ${conn.id} says "${chunk.toString()}"`);
      conn.send(chunk);
    },
    onClose(conn, reason) {
      console.log(`${at()} connection ${conn.id} closed: ${reason}`);
    },
  });
  const running = loop.run();

  // Two clients: one connects and says nothing; the other speaks every 20 s
  // (under the 30 s timeout), then leaves at 50 s.
  const quiet = sim.connect(7000);
  const chatty = sim.connect(7000);
  for (let i = 0; i < 3; i++) loop.timers.schedule(i * 20_000, () => chatty.write(`ping ${i}`));
  loop.timers.schedule(50_000, () => chatty.close());

  await quiet.waitError(); // cut (reset) at its idle timeout
  await chatty.waitEnd();
  await loop.close();
  await running;
}

void main();
