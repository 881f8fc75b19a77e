import type { Lane } from './event-queue';
import type { SimPath } from './sim-link';
import type { SimContext, SimSocket } from './sim-socket';

/** Linux's floor for the retransmission timeout (`TCP_RTO_MIN`): a simulated round trip is always shorter. */
const RTO_MIN_MS = 200;
/** Linux's ceiling for it (`TCP_RTO_MAX`). */
const RTO_MAX_MS = 120_000;
/** Linux's `tcp_retries2`: retransmissions of a segment before the connection is given up (about 15 minutes). */
const RETRIES = 15;

/**
 * One direction of one connection on its path: packets reach the receiver
 * in the order they were sent, however the link treats them, as TCP's
 * sequence numbers make them. A reliable packet (data, FIN, SYN-ACK) that
 * the link loses is sent again after the retransmission timeout (200 ms,
 * doubling up to 120 s, as Linux); one that arrives while an earlier one is
 * still missing waits for it (the receiver's reassembly queue) and is handed
 * on with it. After 15 retransmissions of one segment the sender gives up
 * (`giveUp`: the connection fails with `ETIMEDOUT`), as Linux does after
 * `tcp_retries2`. An unreliable packet (RST) that is lost is gone.
 */
export class SimWire {
  readonly #net: SimContext;
  readonly #path: SimPath;
  readonly #lane: Lane;
  readonly #name: () => string;
  readonly #giveUp: () => void;
  readonly #alive: () => boolean;
  #sent = 0;
  /** The sequence number the receiver takes next. */
  #next = 0;
  /** Packets that got through ahead of one still missing, by sequence number (undefined: lost for good, skipped). */
  readonly #early = new Map<number, (() => void) | undefined>();
  #dead = false;

  constructor(net: SimContext, path: SimPath, lane: Lane, name: () => string, giveUp: () => void, alive: () => boolean) {
    this.#net = net;
    this.#path = path;
    this.#lane = lane;
    this.#name = name;
    this.#giveUp = giveUp;
    this.#alive = alive;
  }

  get path(): SimPath {
    return this.#path;
  }

  /** Sends a packet due at the far end at `arrival`: `deliver` runs when it gets there, in order. */
  send(arrival: number, deliver: () => void, reliable: boolean): void {
    if (this.#dead) return;
    const seq = this.#sent++;
    this.#net.at(arrival, () => this.#land(seq, deliver, reliable, 0), this.#lane);
  }

  /**
   * Sends a data segment from `from` to `to` (the hot path: one closure per
   * segment, where `send` takes two): `to.receiveData(from, segment)` when
   * it gets there, in order.
   */
  sendData(arrival: number, from: SimSocket, to: SimSocket, segment: Buffer): void {
    if (this.#dead) return;
    const seq = this.#sent++;
    this.#net.at(
      arrival,
      () => {
        if (this.#dead) return;
        const fate = this.#path.fate(); // asked once: a lossy link draws for it
        if (fate === 'deliver' && seq === this.#next) {
          this.#next++;
          to.receiveData(from, segment);
          if (this.#early.size > 0) this.#handOnEarly();
          return;
        }
        this.#settle(fate, seq, () => to.receiveData(from, segment), true, 0); // anything unusual: the general path
      },
      this.#lane,
    );
  }

  /** The connection is gone (it gave up): what is still on its way is dropped. */
  kill(): void {
    this.#dead = true;
    this.#early.clear();
  }

  /** A method, not a field test: a delivery may kill the wire, which TypeScript cannot see. */
  #gone(): boolean {
    return this.#dead;
  }

  /** Packet `seq` (sent `attempt` times before) reaches the far end of the link now. */
  #land(seq: number, deliver: () => void, reliable: boolean, attempt: number): void {
    if (this.#dead) return;
    this.#settle(this.#path.fate(), seq, deliver, reliable, attempt);
  }

  /** What becomes of packet `seq`, now that the link decided its `fate`. */
  #settle(fate: 'deliver' | 'hold' | 'lose', seq: number, deliver: () => void, reliable: boolean, attempt: number): void {
    if (fate === 'deliver') this.#arrived(seq, deliver);
    else if (fate === 'hold') this.#path.link.hold(() => this.#land(seq, deliver, reliable, attempt));
    else this.#lost(seq, deliver, reliable, attempt);
  }

  #lost(seq: number, deliver: () => void, reliable: boolean, attempt: number): void {
    if (!this.#alive()) return; // its host crashed: nobody sends it again
    if (!reliable) {
      this.#net.trace(() => `lost ${this.#name()} (rst)`);
      this.#arrived(seq, undefined);
      return;
    }
    if (attempt === RETRIES) {
      this.#net.trace(() => `retransmit-timeout ${this.#name()}`);
      this.kill();
      this.#giveUp();
      return;
    }
    const rtoMs = Math.min(RTO_MIN_MS * 2 ** attempt, RTO_MAX_MS);
    this.#net.trace(() => `lost ${this.#name()}: again in ${rtoMs} ms`);
    const again = this.#net.now() + rtoMs;
    this.#net.at(
      again,
      () => {
        if (this.#dead) return;
        this.#net.trace(() => `retransmit ${this.#name()} (${attempt + 1})`);
        this.#net.at(again + this.#path.delayMs(), () => this.#land(seq, deliver, true, attempt + 1), this.#lane);
      },
      this.#lane,
    );
  }

  #arrived(seq: number, deliver: (() => void) | undefined): void {
    if (seq !== this.#next) {
      this.#early.set(seq, deliver);
      return;
    }
    this.#next++;
    deliver?.();
    this.#handOnEarly();
  }

  /** Hands on the packets that got through ahead of the one just delivered, as far as they follow on. */
  #handOnEarly(): void {
    while (this.#early.size > 0 && this.#early.has(this.#next) && !this.#gone()) {
      const following = this.#early.get(this.#next);
      this.#early.delete(this.#next++);
      following?.();
    }
  }
}
