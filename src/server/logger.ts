/**
 * Where the server layer says what it is doing. Silent by default
 * ({@link silentLogger}); pass `console` (it fits) or an adapter for your
 * logging library.
 *
 * @example
 * ```ts
 * import { EventLoop } from 'tsreactor';
 *
 * const loop = new EventLoop({ logger: console });
 * ```
 */
export interface Logger {
  debug(message: string, fields?: object): void;
  info(message: string, fields?: object): void;
  warn(message: string, fields?: object): void;
  error(message: string, fields?: object): void;
}

const nothing = (): void => {};

/** A logger that says nothing: the default. */
export const silentLogger: Logger = { debug: nothing, info: nothing, warn: nothing, error: nothing };
