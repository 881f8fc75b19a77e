export * from './timers';
export * from './reactor';
export * from './server';
export { Channels, CHANNEL_NAMES } from './diagnostics';
export * from './testing';
