export { Reactor } from './reactor';
export type {
  DescriptorInfo,
  ReactorConnectOptions,
  ReactorListenOptions,
  ReactorOptions,
  ReactorUnixConnectOptions,
  ReactorUnixListenOptions,
  ReactorState,
  ReactorStats,
  RegisterOptions,
  SocketOptions,
} from './reactor';
export type { ReactorBindOptions } from './bind-options';
export { ReactorError } from './reactor-error';
export type { ReactorErrorCode, ReactorErrorDetails } from './reactor-error';
export { Interest, isInterest } from './interest';
export type { InterestMask } from './interest';
export { Readiness } from './readiness';
export type { Trigger } from './trigger';
export { Waker } from './waker';
export type { WakerOptions } from './waker';
export { RemoteWaker } from './remote-waker';
export type { WakerHandle } from './wake-cell';
export { Event } from './event';
export { Events } from './events';
export { DescriptorTable } from './descriptor-table';
export type { DescriptorTableOptions } from './descriptor-table';
export * from './backends';
