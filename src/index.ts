export * from './timers';
export * from './reactor';
