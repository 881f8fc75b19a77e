export type { Clock } from './clock';
export { SystemClock } from './system-clock';
export { ManualClock } from './manual-clock';
export { TimerWheel } from './timer-wheel';
export type {
  EveryOptions,
  MissedTickPolicy,
  ScheduleOptions,
  TimerCallback,
  TimerHandle,
  TimerWaker,
  TimerWheelOptions,
} from './timer-wheel';
export { TimerDriver } from './timer-driver';
export type { TimerDriverOptions } from './timer-driver';
