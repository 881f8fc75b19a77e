export type { Backend, BackendSink, ConnectOptions, HandleInfo, ListenOptions } from './backend';
export { LibuvBackend } from './libuv-backend';
export type { LibuvBackendOptions } from './libuv-backend';
export { RawHandleBackend } from './raw-handle-backend';
export type { RawHandleBackendOptions } from './raw-handle-backend';
export * from './simulated';
