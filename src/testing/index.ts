export { simulate } from './simulate';
export type { Simulation } from './simulate';
export { runTwice } from './run-twice';
export type { TwiceRun } from './run-twice';
