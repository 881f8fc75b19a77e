export type { Backend, BackendSink, ConnectOptions, HandleInfo, ListenOptions } from './backend';
export { LibuvBackend } from './libuv-backend';
export type { LibuvBackendOptions } from './libuv-backend';
export * from './simulated';
