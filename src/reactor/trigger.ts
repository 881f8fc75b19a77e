/**
 * How a registration reports readiness:
 * - `'level'` (default): on every poll while the descriptor is ready, as
 *   poll(2) and epoll without `EPOLLET`.
 * - `'edge'`: once per new arrival (data, a connection, room to write again,
 *   end of stream, an error); nothing more until something new happens. Read
 *   (or write) until `null` (EAGAIN) before waiting again.
 * - `'oneshot'`: like level, but after one delivery the registration is
 *   disarmed until `modify` re-arms it (`EPOLLONESHOT`).
 * - `'edge-oneshot'`: like edge, disarmed after one delivery
 *   (`EPOLLET | EPOLLONESHOT`).
 */
export type Trigger = 'level' | 'edge' | 'oneshot' | 'edge-oneshot';

/** The flags a trigger stands for. */
export const TriggerFlags = {
  EDGE: 1,
  ONESHOT: 2,
} as const;

const TRIGGERS: Record<Trigger, number> = {
  level: 0,
  edge: TriggerFlags.EDGE,
  oneshot: TriggerFlags.ONESHOT,
  'edge-oneshot': TriggerFlags.EDGE | TriggerFlags.ONESHOT,
};

/** The trigger's flags, or -1 if `value` is not a trigger. */
export function triggerFlags(value: unknown): number {
  return typeof value === 'string' && Object.hasOwn(TRIGGERS, value) ? TRIGGERS[value as Trigger] : -1;
}
