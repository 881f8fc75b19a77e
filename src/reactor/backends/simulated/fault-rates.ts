/**
 * Chances, from 0 to 1, that the simulator injects each fault on its own,
 * drawn from the seeded generator (so one seed gives the same faults), and
 * the sizes of the faults that have one (`delayMs`, `stallMs`).
 *
 * @example
 * ```ts
 * import { SimulatedBackend } from 'tsreactor';
 *
 * const sim = new SimulatedBackend({ seed: 3, faults: { shortWrite: 0.2, delay: 0.1, delayMs: 5 } });
 * ```
 */
export interface FaultRates {
  /** Per data segment: the connection is reset instead (the receiver gets ECONNRESET). */
  reset: number;
  /** Per connection attempt: refused (ECONNREFUSED). */
  refuse: number;
  /** Per `accept`: fails with EMFILE; the connection stays waiting. */
  acceptEmfile: number;
  /** Per `write`: accepts fewer bytes than there was room for. */
  shortWrite: number;
  /**
   * Per data segment: delivered up to `delayMs` late (later segments keep
   * their order behind it). Per datagram too, and there later datagrams
   * overtake it: UDP does not keep order.
   */
  delay: number;
  delayMs: number;
  /** Per delivery of data to a test peer: the peer stops reading for `stallMs` (its receive buffer fills). */
  stall: number;
  stallMs: number;
  /** Per datagram sent: lost on the way (UDP does not send it again; the sender is not told). */
  datagramLoss: number;
  /** Per datagram sent: it arrives twice (each copy with its own delay). */
  datagramDuplicate: number;
}

/** No fault at all: the rates a simulation starts from. */
export const DEFAULT_FAULTS: FaultRates = {
  reset: 0,
  refuse: 0,
  acceptEmfile: 0,
  shortWrite: 0,
  delay: 0,
  delayMs: 0,
  stall: 0,
  stallMs: 0,
  datagramLoss: 0,
  datagramDuplicate: 0,
};

/** All the rates, `given` over the defaults; a RangeError names a bad one (`'faults.reset' must be ...`). */
export function checkFaultRates(given: Partial<FaultRates> | undefined): FaultRates {
  const faults = { ...DEFAULT_FAULTS, ...given };
  for (const [name, value] of Object.entries(faults)) {
    const ms = name.endsWith('Ms');
    if (typeof value !== 'number' || !(value >= 0) || (!ms && value > 1)) {
      throw new RangeError(`'faults.${name}' must be ${ms ? 'a number of ms >= 0' : 'a probability from 0 to 1'}, got ${String(value)}`);
    }
  }
  return faults;
}
