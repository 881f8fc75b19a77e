export type {
  Backend,
  BackendSettings,
  BackendSink,
  ConnectOptions,
  Datagram,
  DatagramOptions,
  DescriptorKind,
  HandleInfo,
  LingeringHandle,
  ListenOptions,
} from './backend';
export type { SignalArrival } from './pending-signals';
export { LibuvBackend } from './libuv-backend';
export type { LibuvBackendOptions } from './libuv-backend';
export { RawHandleBackend } from './raw-handle-backend';
export type { RawHandleBackendOptions } from './raw-handle-backend';
export * from './simulated';
