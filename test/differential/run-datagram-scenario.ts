import { Events, Reactor, ReactorError } from '../../src';
import type { DatagramHarness, DatagramPeer } from '../contract/datagram-harness';
import { type DatagramScenario, type DatagramStep, describeDatagramStep, SCENARIO_QUEUE } from './datagram-scenario';

/** Datagram `n` of one direction: its length, and bytes that say which it is, so any mix-up shows. */
function payload(direction: 0 | 1, n: number, length: number): Buffer {
  const bytes = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) bytes[i] = (n * 13 + i * 7 + direction * 101) & 0xff;
  return bytes;
}

const FLAGS: [number, string][] = [
  [1, 'R'],
  [2, 'W'],
  [4, 'RC'],
  [8, 'WC'],
  [16, 'E'],
];

/**
 * Runs a datagram scenario on one world and returns its normal form: per
 * step, its outcome and, once the world is quiet (every datagram sent has
 * arrived or been dropped), the events of one poll, the queue and drop
 * counts and what the peer has received. Nothing is normalised: on
 * loopback, with bursts under the kernel's buffer, every backend must
 * agree datagram for datagram.
 */
export async function runDatagramScenario(harness: DatagramHarness, scenario: DatagramScenario): Promise<string[]> {
  const reactor = new Reactor<string>({ backend: harness.makeBackend() });
  const events = new Events<string>();
  const lines: string[] = [];
  try {
    const fd = await reactor.bind({ host: harness.host, port: 0, ...SCENARIO_QUEUE });
    const port = reactor.info(fd).localPort as number;
    const peer = await harness.peer();
    const counts = { peerSent: 0, reactorSent: 0, taken: 0 };
    // Quiet: the peer has every datagram sent to it, and nothing changed on the reactor's side for five rounds
    // (on loopback every datagram lands within microseconds; in the simulator, settle runs what is due).
    const quiet = async (): Promise<boolean> => {
      let last = '';
      let stable = 0;
      for (let i = 0; i < 2_000; i++) {
        await harness.settle();
        const info = reactor.info(fd);
        const now = `${info.readBuffered}:${info.droppedDatagrams}:${info.bytesRead}:${peer.received.length}`;
        stable = now === last ? stable + 1 : 0;
        last = now;
        if (stable >= 5 && peer.received.length === counts.reactorSent) return true;
      }
      return false;
    };
    for (const [index, step] of scenario.steps.entries()) {
      const outcome = act(reactor, fd, peer, port, harness.host, step, counts);
      const settled = await quiet();
      await reactor.poll(events, 0);
      const seen = [...events].map((e) =>
        FLAGS.filter(([bit]) => (e.flags & bit) !== 0)
          .map(([, name]) => name)
          .join('|'),
      );
      const info = reactor.info(fd);
      lines.push(
        `${index} ${describeDatagramStep(step)} -> ${outcome}${settled ? '' : ' [never quiet]'} | events: ${seen.join(', ') || 'none'} | dropped ${info.droppedDatagrams} | peer got ${peer.received.length}`,
      );
    }
    peer.received.forEach((datagram, n) => {
      if (!datagram.data.equals(payload(1, n, datagram.data.length)) || datagram.port !== port)
        lines.push(`peer datagram ${n} is not the one sent`);
    });
    return lines;
  } finally {
    await reactor.close();
    await harness.dispose();
  }
}

function act(
  reactor: Reactor<string>,
  fd: number,
  peer: DatagramPeer,
  port: number,
  host: string,
  step: DatagramStep,
  counts: { peerSent: number; reactorSent: number; taken: number },
): string {
  try {
    switch (step.op) {
      case 'register':
        reactor.register(fd, step.interest, { trigger: step.trigger });
        return 'ok';
      case 'modify':
        reactor.modify(fd, step.interest, { trigger: step.trigger });
        return 'ok';
      case 'unregister':
        reactor.unregister(fd);
        return 'ok';
      case 'recv': {
        const datagram = reactor.recvFrom(fd, step.maxBytes);
        if (datagram === null) return 'null';
        counts.taken++;
        return `${datagram.data.length} B from the peer${datagram.port === peer.port ? '' : ' (wrong port)'}`;
      }
      case 'drain': {
        let n = 0;
        for (let d = reactor.recvFrom(fd); d !== null; d = reactor.recvFrom(fd)) n++;
        counts.taken += n;
        return `${n} datagrams`;
      }
      case 'send': {
        const sent = reactor.sendTo(fd, payload(1, counts.reactorSent, step.bytes), host, peer.port);
        counts.reactorSent++;
        return `${sent}`;
      }
      case 'oversize':
        return String(reactor.sendTo(fd, Buffer.alloc(65_508), host, peer.port));
      case 'peer-send':
        for (let i = 0; i < step.count; i++) peer.send(payload(0, counts.peerSent++, step.bytes), port);
        return 'ok';
    }
  } catch (err) {
    if (err instanceof ReactorError) return err.code;
    throw err;
  }
}
