/**
 * Timers demo: what `npm start` runs until the server layer exists.
 *
 * Part 1 runs a TimerWheel in real time with a TimerDriver: one-shot timers
 * scheduled out of order fire in deadline order; one is cancelled, one moved
 * earlier, one moved later; a heartbeat recurs and then stops itself.
 *
 * Part 2 runs a wheel on a ManualClock: ten minutes pass in one step, and
 * each missed-tick policy reports what it missed.
 *
 * Run: npm start   (or: npx ts-node examples/timers-demo.ts)
 */
import { ManualClock, type MissedTickPolicy, TimerDriver, TimerWheel } from '../src';

function realTime(): Promise<void> {
  console.log('Part 1: a timer wheel in real time (one host timer, armed for the next deadline only)');
  const wheel = new TimerWheel();
  const driver = new TimerDriver(wheel);
  const start = wheel.clock.now();
  const report = (name: string, plannedMs: number) => {
    const actual = wheel.clock.now() - start;
    console.log(`  +${actual.toFixed(0).padStart(4)} ms  ${name.padEnd(34)} (due at +${plannedMs} ms)`);
  };

  return new Promise((resolve) => {
    wheel.schedule(300, () => report('flush the write buffer', 300));
    wheel.schedule(120, () => report('retry the connection', 120));
    wheel.schedule(50, () => report('first keep-alive probe', 50));
    const cancelled = wheel.schedule(80, () => report('never fires: cancelled', 80));
    const earlier = wheel.schedule(500, () => report('moved earlier: 500 -> 200', 200));
    const later = wheel.schedule(100, () => report('moved later: 100 -> 350', 350));
    wheel.cancel(cancelled);
    wheel.reschedule(earlier, 200);
    wheel.reschedule(later, 350);

    let beats = 0;
    const heartbeat = wheel.every(
      110,
      () => {
        beats++;
        report(`heartbeat #${beats}`, beats * 110);
        if (beats === 3) wheel.cancel(heartbeat);
      },
      { missed: 'skip' },
    );

    wheel.schedule(400, () => {
      report('last timer: closing the driver', 400);
      driver.close();
      resolve();
    });
  });
}

function stall(): void {
  console.log('\nPart 2: ten minutes and a half second pass at once on a ManualClock; a 1 s heartbeat under each policy');
  const policies: MissedTickPolicy[] = ['skip', 'delay', 'burst'];
  for (const missed of policies) {
    const clock = new ManualClock();
    const wheel = new TimerWheel({ clock });
    const calls: number[] = [];
    const handle = wheel.every(1_000, (_ctx, missedTicks) => calls.push(missedTicks), { missed });
    clock.advance(600_500);
    let fired = 0;
    for (let n = wheel.advance(); n > 0; n = wheel.advance()) fired += n;
    const next = wheel.deadlineOf(handle) ?? 0;
    console.log(
      `  ${missed.padEnd(5)}  callbacks: ${String(fired).padStart(3)}   first reported ${calls[0]} missed   next tick at ${next / 1000} s`,
    );
  }
}

async function main(): Promise<void> {
  await realTime();
  stall();
}

void main();
