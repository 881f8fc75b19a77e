import { type Backend, Events, Reactor, ReactorError, Readiness } from '../../src';
import type { Peer } from '../contract/harness';
import { describeStep, type Scenario, SLOTS, type Step } from './scenario';
import { Slot } from './slot';
import type { ScenarioPeerServer, ScenarioWorld } from './world';

/** How the runner decides a world is quiet, and the reactor it makes. */
export interface RunOptions {
  /** Consecutive `settle()` rounds with nothing changing before a world counts as quiet. */
  quietRounds: number;
  /**
   * The reactor's `lingerMs`: far beyond any scenario, since a real-time
   * deadline would race the steps themselves (they take real time on
   * loopback, none in the simulator). Its expiry has its own contract test.
   */
  lingerMs: number;
  /** Bytes past which a backend stops reading an unread descriptor (the real backends' inbox, the simulator's receive buffer). */
  inboxLimit: number;
}

export const DEFAULT_RUN_OPTIONS: RunOptions = { quietRounds: 5, lingerMs: 10 * 60_000, inboxLimit: 64 * 1024 };

/** The most the peer writes in one scenario, so that a run stays short. */
const PEER_BYTES_LIMIT = 4 * 1024 * 1024;
/** The most a reactor writes to a paused peer before `fill`: far below the simulator's buffers, so `writable` stays on everywhere. */
const PAUSED_WRITE_BUDGET = 32 * 1024;
const MAX_OPENS = 6;

/** The bytes of one direction of one connection follow a pattern, so any byte out of place is seen. */
function pattern(connection: number, direction: 0 | 1, start: number, length: number): Buffer {
  const bytes = Buffer.allocUnsafe(length);
  const seed = connection * 31 + direction * 101;
  for (let i = 0; i < length; i++) bytes[i] = ((start + i) * 7 + seed) & 0xff;
  return bytes;
}

const FLAG_NAMES: [number, string][] = [
  [Readiness.READABLE, 'R'],
  [Readiness.WRITABLE, 'W'],
  [Readiness.READ_CLOSED, 'RC'],
  [Readiness.WRITE_CLOSED, 'WC'],
  [Readiness.ERROR, 'E'],
];

function flagNames(flags: number): string {
  return (
    FLAG_NAMES.filter(([bit]) => (flags & bit) !== 0)
      .map(([, name]) => name)
      .join('|') || '-'
  );
}

/**
 * Runs `scenario` on one world and returns its normal form: one line per
 * step, with the step's outcome and, once the world is quiet, the events of
 * one poll, what each peer has seen and how many closed streams linger.
 *
 * Normalised, because real kernels differ from each other and from the
 * simulator where no contract speaks (each choice says why):
 * - events are sorted by descriptor: across descriptors, the order depends
 *   on which arrival the host loop saw first;
 * - a read's size is not kept, only that it returned data (chunk sizes are
 *   the kernel's), and a drain's total only while nothing cut the
 *   connection (a reset drops what was in flight, as much as the buffers held);
 * - a peer's bytes are `all` or `short` of what the reactor wrote (how much
 *   a fill got in depends on the buffers); a paused peer shows only that it
 *   is paused (what a socket that does not read has seen is not observable);
 * - toward a peer paused after a fill, `writable` and small writes are not
 *   compared until it resumes (see `Slot.filled`);
 * - after the reactor's own FIN, a reset that comes with data may show as an
 *   end of stream (see `Slot.endUncertain`);
 * - a peer that writes to a descriptor the reactor has closed meets the
 *   closed socket's RST at once only if its kernel did not take all of the
 *   write (see `Slot.peerViewUncertain`);
 * - a FIN or reset that found the reactor's inbox full is seen at different
 *   points by different backends (see `Slot.held`): that descriptor's
 *   events and single reads are not compared until the program has read
 *   through, nor, for an edge registration, the poll right after (see
 *   `Slot.edgeAfterHeld`).
 * Everything else must be identical: outcomes and codes, which events, with
 * which bits, peers' FIN or RST, lingering streams. A byte out of order or
 * corrupted in either direction is a line of its own.
 */
export async function runScenario(world: ScenarioWorld, scenario: Scenario, options: RunOptions = DEFAULT_RUN_OPTIONS): Promise<string[]> {
  const backend = world.makeBackend();
  const reactor = new Reactor<string>({ backend, lingerMs: options.lingerMs });
  const run = new ScenarioRun(world, backend, reactor, options);
  try {
    await run.start();
    for (const [index, step] of scenario.steps.entries()) await run.step(index, step);
    run.checkPeers();
    return run.lines;
  } finally {
    await reactor.close();
    await world.dispose();
  }
}

class ScenarioRun {
  readonly lines: string[] = [];
  readonly #world: ScenarioWorld;
  readonly #backend: Backend;
  readonly #reactor: Reactor<string>;
  readonly #options: RunOptions;
  readonly #events = new Events<string>();
  readonly #slots = Array.from({ length: SLOTS }, (_, i) => new Slot(i));
  #listener = -1;
  #listening: { port: number | undefined; path: string | undefined } = { port: undefined, path: undefined };
  #peerServer: ScenarioPeerServer | undefined;
  #opens = 0;
  #peerBytes = 0;

  constructor(world: ScenarioWorld, backend: Backend, reactor: Reactor<string>, options: RunOptions) {
    this.#world = world;
    this.#backend = backend;
    this.#reactor = reactor;
    this.#options = options;
  }

  async start(): Promise<void> {
    this.#listener = await this.#reactor.listen(this.#world.listenAt());
    const info = this.#reactor.info(this.#listener);
    this.#listening = { port: info.localPort, path: info.path };
    this.#peerServer = await this.#world.listenPeer();
  }

  async step(index: number, step: Step): Promise<void> {
    const outcome = await this.#act(step);
    if (outcome === undefined) {
      this.lines.push(`${index} ${describeStep(step)}: skipped`);
      return;
    }
    const quiet = await this.#quiesce();
    const events = await this.#observe();
    const peers = this.#slots.filter((s) => s.peer !== undefined).map((s) => this.#peerState(s));
    const lingering = this.#reactor.lingering().length;
    this.lines.push(
      `${index} ${describeStep(step)} -> ${outcome}${quiet ? '' : ' [never quiet]'} | events: ${events.join(', ') || 'none'} | peers: ${peers.join(', ')} | lingering: ${lingering}`,
    );
  }

  /** The byte streams both ways are intact prefixes of what was sent. */
  checkPeers(): void {
    for (const slot of this.#slots) {
      if (slot.peer === undefined) continue;
      const received = slot.peer.received();
      if (!received.equals(pattern(slot.connection, 1, 0, received.length)))
        this.lines.push(`c${slot.index}: the peer received corrupted bytes`);
      if (received.length > slot.accepted) this.lines.push(`c${slot.index}: the peer received more than was written`);
    }
  }

  /* ---- Steps ----------------------------------------------------------- */

  /** Carries out a step; its outcome, or undefined if it does not apply now. */
  async #act(step: Step): Promise<string | undefined> {
    const slot = this.#slots[step.slot];
    if (step.side === 'peer') return this.#peerAct(slot, step);
    if (step.op === 'open') return slot.open || this.#opens >= MAX_OPENS ? undefined : this.#open(slot, step.direction);
    if (!slot.open) return undefined;
    const reactor = this.#reactor;
    const token = `c${slot.index}`;
    switch (step.op) {
      case 'register':
        return this.#registered(slot, step.trigger, () => reactor.register(slot.fd, step.interest, { trigger: step.trigger, token }));
      case 'modify':
        return this.#registered(slot, step.trigger, () => reactor.modify(slot.fd, step.interest, { trigger: step.trigger, token }));
      case 'unregister':
        return this.#registered(slot, undefined, () => reactor.unregister(slot.fd));
      case 'read':
        return this.#readOnce(slot, step.maxBytes);
      case 'drain':
        return this.#drain(slot);
      case 'write':
        return this.#write(slot, step.bytes);
      case 'fill':
        return slot.peerPaused && slot.peerAlive ? this.#fill(slot) : undefined;
      case 'shutdown':
        slot.shut = true;
        return codeOf(() => reactor.shutdown(slot.fd));
      case 'close':
      case 'abort':
        if (step.op === 'abort' || slot.peerWritten > slot.reactorRead) {
          slot.inCut = true; // a reset: see Slot.peerViewUncertain for a peer that had ended
          if (slot.peerEnded) slot.resetAfterPeerEnd = true;
          if (!this.#world.resets && slot.peerWritten > slot.reactorRead) slot.unixClosedUnread = true;
        }
        slot.open = false;
        slot.held = false;
        return codeOf(() => (step.op === 'close' ? reactor.close(slot.fd) : reactor.abort(slot.fd)));
    }
  }

  /** Runs a registry call and, if it succeeded, remembers the trigger it left. */
  #registered(slot: Slot, trigger: Slot['trigger'], call: () => void): string {
    const outcome = codeOf(call);
    if (outcome === 'ok') slot.trigger = trigger;
    return outcome;
  }

  async #open(slot: Slot, direction: 'in' | 'out'): Promise<string> {
    Object.assign(slot, new Slot(slot.index));
    slot.connection = this.#opens++;
    if (direction === 'in') {
      slot.peer = await this.#world.connectPeer(this.#listening);
      let fd: number | null = null;
      for (let i = 0; i < 2_000 && fd === null; i++) {
        fd = this.#reactor.accept(this.#listener);
        if (fd === null) await this.#world.settle();
      }
      if (fd === null) return 'nothing to accept';
      slot.fd = fd;
    } else {
      const server = this.#peerServer as ScenarioPeerServer;
      slot.fd = this.#reactor.connect(server.dial);
      const accepted = server.accepted();
      let peer: Peer | undefined;
      void accepted.then((p) => (peer = p));
      for (
        let i = 0;
        i < 2_000 && (peer === undefined || (this.#backend.readiness(slot.fd) & (Readiness.WRITABLE | Readiness.ERROR)) === 0);
        i++
      ) {
        await this.#world.settle();
      }
      if (peer === undefined) return 'never accepted';
      slot.peer = peer;
    }
    slot.open = true;
    slot.peerAlive = true;
    return `fd ${slot.fd}`;
  }

  #readOnce(slot: Slot, maxBytes: number): string {
    let outcome: string;
    try {
      const chunk = this.#reactor.read(slot.fd, maxBytes);
      if (chunk === null) outcome = 'null';
      else if (chunk.length === 0) outcome = 'eof';
      else {
        this.#took(slot, chunk);
        outcome = 'data';
      }
    } catch (err) {
      outcome = codeOfError(err);
    }
    if (slot.held) return 'held (not compared)';
    return slot.endUncertain && outcome !== 'data' && outcome !== 'null' ? 'the end (eof or reset, not compared)' : outcome;
  }

  /** Reads until nothing more comes: EAGAIN with the world quiet, end of stream, or an error. */
  async #drain(slot: Slot): Promise<string> {
    let bytes = 0;
    let end = 'eagain';
    for (let round = 0; round < 10_000; round++) {
      let chunk: Buffer | null;
      try {
        chunk = this.#reactor.read(slot.fd);
      } catch (err) {
        end = codeOfError(err);
        break;
      }
      if (chunk === null) {
        await this.#quiesce();
        if ((this.#backend.readiness(slot.fd) & Readiness.READABLE) !== 0) continue;
        break;
      }
      if (chunk.length === 0) {
        end = 'eof';
        break;
      }
      bytes += chunk.length;
      this.#took(slot, chunk);
    }
    if (slot.held && slot.trigger === 'edge') slot.edgeAfterHeld = true;
    slot.held = false;
    if (slot.endUncertain && end !== 'eagain') end = 'the end (eof or reset, not compared)';
    return `read ${slot.inCut ? 'some' : bytes} B, then ${end}`;
  }

  #took(slot: Slot, chunk: Buffer): void {
    if (!chunk.equals(pattern(slot.connection, 0, slot.reactorRead, chunk.length))) {
      this.lines.push(`c${slot.index}: the reactor read corrupted or reordered bytes at ${slot.reactorRead}`);
    }
    slot.reactorRead += chunk.length;
  }

  #write(slot: Slot, bytes: number): string | undefined {
    if (slot.peerPaused && !slot.filled) {
      if (slot.writtenWhilePaused + bytes > PAUSED_WRITE_BUDGET) return undefined;
      slot.writtenWhilePaused += bytes;
    }
    let accepted: number;
    try {
      accepted = this.#reactor.write(slot.fd, pattern(slot.connection, 1, slot.accepted, bytes));
    } catch (err) {
      const code = codeOfError(err);
      // Held: the write fails everywhere, but with the reset's code only where the backend has seen it already.
      return slot.held ? 'fails (code not compared while held)' : code;
    }
    slot.accepted += accepted;
    if (slot.filled) return 'taken or not (not compared while filled)';
    return accepted === bytes ? 'all' : accepted === 0 ? 'none' : 'partial';
  }

  /** Writes until the send side is full and stays full (the peer is paused). */
  async #fill(slot: Slot): Promise<string> {
    slot.filled = true;
    const chunk = 64 * 1024;
    for (let round = 0; round < 2_000; round++) {
      let accepted: number;
      try {
        accepted = this.#reactor.write(slot.fd, pattern(slot.connection, 1, slot.accepted, chunk));
      } catch (err) {
        return codeOfError(err);
      }
      slot.accepted += accepted;
      if (accepted > 0) continue;
      await this.#quiesce();
      if ((this.#backend.readiness(slot.fd) & Readiness.WRITABLE) === 0) return 'ok';
    }
    return 'never full';
  }

  async #peerAct(slot: Slot, step: Step & { side: 'peer' }): Promise<string | undefined> {
    const peer = slot.peer;
    if (peer === undefined || !slot.peerAlive) return undefined;
    switch (step.op) {
      case 'write': {
        if (slot.peerEnded || this.#peerBytes + step.bytes > PEER_BYTES_LIMIT) return undefined;
        this.#peerBytes += step.bytes;
        if (!slot.open) slot.writesAfterClose++;
        const bytes = pattern(slot.connection, 0, slot.peerWritten, step.bytes);
        slot.peerWritten += step.bytes;
        void peer.write(bytes).catch(() => undefined); // handed over as the connection allows; a failure shows as the peer's outcome
        if (step.then === 'end') return this.#peerAct(slot, { side: 'peer', op: 'end', slot: slot.index });
        if (step.then === 'reset') {
          if (slot.shut) slot.endUncertain = true;
          return this.#peerAct(slot, { side: 'peer', op: 'reset', slot: slot.index });
        }
        return 'ok';
      }
      case 'pause':
        peer.pause();
        slot.peerPaused = true;
        return 'ok';
      case 'resume':
        peer.resume();
        slot.peerPaused = false;
        slot.writtenWhilePaused = 0;
        slot.filled = false;
        return 'ok';
      case 'end':
        if (slot.peerEnded) return undefined;
        this.#holdIfFull(slot);
        slot.peerEnded = true;
        peer.end();
        return 'ok';
      case 'reset':
      case 'close':
        this.#holdIfFull(slot);
        slot.inCut = true;
        slot.peerAlive = false;
        if (step.op === 'reset') peer.reset();
        else await peer.close();
        return 'ok';
    }
  }

  #holdIfFull(slot: Slot): void {
    if (slot.open && slot.peerWritten - slot.reactorRead >= this.#options.inboxLimit) slot.held = true;
  }

  /* ---- Quiescence and observation --------------------------------------- */

  /**
   * Lets the world run until nothing changes for `quietRounds` rounds and
   * every transfer the model knows of has landed (or is held back by a full
   * inbox or a paused peer). `false` if that never happened in 10 s.
   */
  async #quiesce(): Promise<boolean> {
    const giveUpAt = Date.now() + 10_000;
    let last = '';
    let stable = 0;
    while (Date.now() < giveUpAt) {
      await this.#world.settle();
      const now = this.#snapshot();
      if (now !== last) {
        last = now;
        stable = 0;
      } else if (this.#landed() && ++stable >= this.#options.quietRounds) {
        return true;
      }
    }
    return false;
  }

  #landed(): boolean {
    for (const slot of this.#slots) {
      if (!slot.open || slot.peer === undefined || !slot.peerAlive) continue;
      if ((this.#backend.readiness(slot.fd) & Readiness.ERROR) !== 0 || slot.peer.outcome() === 'reset') continue;
      const { readBuffered } = this.#reactor.info(slot.fd);
      if (slot.reactorRead + readBuffered < slot.peerWritten && readBuffered < this.#options.inboxLimit) return false;
      if (!slot.peerPaused && slot.peer.receivedBytes < slot.accepted) return false;
    }
    return true;
  }

  #snapshot(): string {
    const parts: string[] = [String(this.#reactor.lingering().length)];
    for (const slot of this.#slots) {
      if (slot.open) {
        const info = this.#reactor.info(slot.fd);
        parts.push(
          `${slot.fd}:${this.#backend.readiness(slot.fd)}:${info.readBuffered}:${info.writeBuffered}:${info.bytesRead}:${info.bytesWritten}`,
        );
      }
      if (slot.peer !== undefined) parts.push(`${slot.peer.receivedBytes}:${slot.peer.outcome()}`);
    }
    return parts.join(' ');
  }

  /** One poll that does not wait: what a program would be told now. */
  async #observe(): Promise<string[]> {
    await this.#reactor.poll(this.#events, 0);
    const held = this.#slots.filter((s) => s.open && (s.held || s.edgeAfterHeld));
    const seen = [...this.#events]
      .filter((event) => !held.some((s) => s.fd === event.fd))
      .map((event) => {
        const slot = this.#slots.find((s) => s.open && s.fd === event.fd);
        let flags = event.flags;
        const notes: string[] = [];
        // An end that may be a reset: `error` or `readClosed` not compared (either way the stream has ended and both sides are closed).
        if (slot?.endUncertain === true) {
          flags &= ~(Readiness.ERROR | Readiness.READ_CLOSED);
          notes.push('E, RC not compared');
        }
        if (slot?.filled === true) {
          flags &= ~Readiness.WRITABLE;
          notes.push('W not compared');
        }
        return {
          fd: event.fd,
          flags,
          text: `fd${event.fd}(${String(event.token)}) ${flagNames(flags)}${notes.length > 0 ? ` (${notes.join('; ')})` : ''}`,
        };
      })
      .filter((event) => event.flags !== 0); // nothing left to compare: another backend may have had no event at all
    // A held descriptor's line follows the model alone: whether it had an event is what is not compared.
    for (const slot of held) {
      seen.push({ fd: slot.fd, flags: 0, text: `fd${slot.fd}(c${slot.index}) ${slot.held ? 'held' : 'edge after held'} (not compared)` });
      slot.edgeAfterHeld = false;
    }
    return seen.sort((a, b) => a.fd - b.fd).map((e) => e.text);
  }

  #peerState(slot: Slot): string {
    const peer = slot.peer as Peer;
    if (!slot.peerAlive) return `c${slot.index} gone`;
    if (slot.peerPaused) return `c${slot.index} paused`;
    const outcome = slot.peerViewUncertain && peer.outcome() !== 'open' ? 'fin or reset (not compared)' : peer.outcome();
    return `c${slot.index} ${peer.receivedBytes === slot.accepted ? 'all' : 'short'} ${outcome}`;
  }
}

function codeOf(fn: () => void): string {
  try {
    fn();
    return 'ok';
  } catch (err) {
    return codeOfError(err);
  }
}

function codeOfError(err: unknown): string {
  if (err instanceof ReactorError) return err.code;
  throw err;
}
