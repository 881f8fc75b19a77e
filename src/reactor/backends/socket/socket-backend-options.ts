/** The options both backends on real sockets take, resolved and checked. */
export interface SocketBackendSettings {
  inboxLimit: number;
  highWaterMark: number;
  noDelay: boolean;
}

/**
 * Resolves `LibuvBackend`'s or `RawHandleBackend`'s options against their
 * defaults, throwing a `RangeError` that names the option when a size is not
 * a whole number of bytes >= 1. Internal to the backends.
 */
export function socketBackendOptions(
  options: Partial<SocketBackendSettings>,
  defaults: { inboxLimit: number; highWaterMark: number },
): SocketBackendSettings {
  const { inboxLimit = defaults.inboxLimit, highWaterMark = defaults.highWaterMark, noDelay = false } = options;
  for (const [name, value] of [
    ['inboxLimit', inboxLimit],
    ['highWaterMark', highWaterMark],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) {
      throw new RangeError(`'${name}' must be a whole number of bytes >= 1, got ${String(value)}`);
    }
  }
  return { inboxLimit, highWaterMark, noDelay: Boolean(noDelay) };
}
