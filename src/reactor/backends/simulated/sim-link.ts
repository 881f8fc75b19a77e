import type { Lane } from './event-queue';
import type { SimContext } from './sim-socket';

/** The host at a path's far end, as the path sees it: a packet for a host that is down is lost. */
export interface PathEnd {
  readonly up: boolean;
}

/**
 * The properties of a link between two simulated hosts (or of one host's
 * loopback), set with `world.link(a, b, options)`.
 *
 * @example
 * ```ts
 * import { SimulatedWorld } from 'tsreactor';
 *
 * const world = new SimulatedWorld();
 * const a = world.host('10.0.0.1');
 * const b = world.host('10.0.0.2');
 * world.link(a, b, { latencyMs: 20, jitterMs: 5, bandwidth: 1_250, loss: 0.01 }); // 10 Mbit/s, 1 % loss
 * ```
 */
export interface LinkOptions {
  /** One-way latency, in ms. Default: the world's `latencyMs` (0.1). */
  latencyMs: number;
  /**
   * Up to this much later than `latencyMs` each packet arrives (a seeded
   * draw per packet, a chance decision `'jitter'`); TCP keeps a
   * connection's bytes in order whatever the jitter. Default 0.
   */
  jitterMs: number;
  /**
   * The link's capacity in bytes per millisecond each way, shared by every
   * connection that crosses it in that direction (each connection is also
   * held to the world's `bandwidth`, its own rate). Default Infinity: only
   * the connections' own rates count.
   */
  bandwidth: number;
  /**
   * The chance that the link loses a packet (a chance decision `'loss'`).
   * TCP hides a loss as a real stack does: the segment comes again after
   * the retransmission timeout, so what the program sees is a delay (and a
   * connection that lost too many in a row fails with `ETIMEDOUT`). A lost
   * SYN is sent again after 1 s, 2 s, 4 s ...; a lost RST is gone. Default 0.
   */
  loss: number;
}

/** Checks the options of `world.link`, naming the one that is wrong; returns them completed from `defaults`. */
export function checkLinkOptions(options: Partial<LinkOptions>, defaults: LinkOptions): LinkOptions {
  const merged = { ...defaults, ...options };
  const { latencyMs, jitterMs, bandwidth, loss } = merged;
  if (!(latencyMs >= 0) || !Number.isFinite(latencyMs))
    throw new RangeError(`'latencyMs' must be a finite number >= 0, got ${String(latencyMs)}`);
  if (!(jitterMs >= 0) || !Number.isFinite(jitterMs))
    throw new RangeError(`'jitterMs' must be a finite number >= 0, got ${String(jitterMs)}`);
  if (!(bandwidth > 0)) throw new RangeError(`'bandwidth' must be a number of bytes per ms > 0, got ${String(bandwidth)}`);
  if (!(loss >= 0 && loss < 1)) throw new RangeError(`'loss' must be a number in [0, 1), got ${String(loss)}`);
  return merged;
}

/**
 * A link between two hosts: its properties and whether it carries
 * anything. Partitioned, it loses every packet (TCP retransmits, so
 * connections stall and, past the retry limit, time out; connects are not
 * answered); held, it keeps every packet until `release`, then delivers
 * them in the order they reached it (nothing is lost, nothing times out).
 */
export class SimLink {
  readonly name: string;
  options: LinkOptions;
  partitioned = false;
  held = false;
  /** The arrivals that found it held, in order: each looks at the link again on release. */
  readonly #waiting: (() => void)[] = [];

  constructor(name: string, options: LinkOptions) {
    this.name = name;
    this.options = options;
  }

  /** Keeps `arrival` until the link is released. */
  hold(arrival: () => void): void {
    this.#waiting.push(arrival);
  }

  /** Stops holding: what it kept arrives now, in order (each looks at the link again: a partition still loses it). */
  release(): void {
    this.held = false;
    for (const arrival of this.#waiting.splice(0)) arrival();
  }

  /** Packets it holds. */
  get holding(): number {
    return this.#waiting.length;
  }
}

/**
 * One direction of a link (a host's loopback has one): where the packets of
 * that direction queue for the bandwidth, and how each one fares.
 */
export class SimPath {
  readonly link: SimLink;
  /** The link is busy sending until then (bandwidth is shared by the direction's connections). */
  busyUntil = 0;
  readonly #net: SimContext;
  readonly #to: PathEnd;

  constructor(link: SimLink, net: SimContext, to: PathEnd) {
    this.link = link;
    this.#net = net;
    this.#to = to;
  }

  /** The one-way delay of the next packet: the latency, plus its jitter. */
  delayMs(): number {
    const { latencyMs, jitterMs } = this.link.options;
    if (jitterMs === 0) return latencyMs;
    return latencyMs + (this.#net.chance.decide('jitter', 1) ?? 0) * jitterMs;
  }

  /**
   * Carries one packet that reaches the far end at `arrival`: then `deliver`
   * runs, unless the link holds it (it waits for `release`) or loses it
   * (partitioned, or lost by chance): then `lost` runs, if given.
   */
  carry(arrival: number, deliver: () => void, lane: Lane, lost?: () => void): void {
    this.#net.at(arrival, () => this.#arrive(deliver, lost), lane);
  }

  /**
   * What becomes of a packet reaching the far end now: `'deliver'`;
   * `'hold'` (the link keeps it: pass `link.hold` what to do on release);
   * `'lose'` (partitioned, the far host down, or lost by chance: a chance decision `'loss'`).
   */
  fate(): 'deliver' | 'hold' | 'lose' {
    const link = this.link;
    if (link.held) return 'hold';
    if (link.partitioned || !this.#to.up) return 'lose';
    const loss = link.options.loss;
    return loss > 0 && this.#net.chance.decide('loss', loss) !== undefined ? 'lose' : 'deliver';
  }

  #arrive(deliver: () => void, lost: (() => void) | undefined): void {
    const fate = this.fate();
    if (fate === 'deliver') deliver();
    else if (fate === 'hold') this.link.hold(() => this.#arrive(deliver, lost));
    else lost?.();
  }
}
