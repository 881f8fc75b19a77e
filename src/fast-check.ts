export { scheduleArbitrary } from './testing/schedule-arbitrary';
export type { ScheduleArbitraryOptions } from './testing/schedule-arbitrary';
