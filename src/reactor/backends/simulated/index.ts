export { SimulatedBackend } from './simulated-backend';
export type { FaultRates, SimulatedBackendOptions, SimulatedPeerServer, SimulatedStats } from './simulated-backend';
export { SimulatedPeer } from './simulated-peer';
export { SeededRandom } from './seeded-random';
export { CHANCE_KINDS } from './chance';
export type { ChanceKind, Schedule, ScheduledChance } from './chance';
export type { TraceOptions } from './trace-options';
