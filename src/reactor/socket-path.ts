import { describe } from './options-object';

/**
 * The longest Unix socket path Linux takes: `sun_path` holds 108 bytes,
 * one of them the terminating NUL.
 */
export const MAX_SOCKET_PATH_BYTES = 107;

/**
 * Checks a Unix domain socket path at the public boundary: a non-empty
 * string of at most {@link MAX_SOCKET_PATH_BYTES} bytes (UTF-8), with no
 * NUL byte except a leading one (Linux's abstract namespace: `'\0name'`
 * names a socket without a file). Throws a `RangeError` naming the option:
 * `'path'`, or where it sits (`where` `'configs[0].'` names `'configs[0].path'`).
 */
export function checkSocketPath(path: unknown, where = ''): string {
  const name = `'${where}path'`;
  if (typeof path !== 'string' || path === '') throw new RangeError(`${name} must be a non-empty string, got ${describe(path)}`);
  const bytes = Buffer.byteLength(path);
  if (bytes > MAX_SOCKET_PATH_BYTES) {
    throw new RangeError(`${name} must be at most ${MAX_SOCKET_PATH_BYTES} bytes (the kernel's sun_path), got ${bytes}: ${path}`);
  }
  if (path.indexOf('\0', 1) !== -1) throw new RangeError(`${name} must hold no NUL byte (except a leading one, for an abstract name)`);
  return path;
}

/**
 * `'path'` given with an option of TCP (`host`, `port`...): a RangeError
 * naming both (with `where` before each, as in {@link checkSocketPath}), as
 * a Unix socket has no address or port.
 */
export function checkNoTcpOptions(options: object, names: readonly string[], where = ''): void {
  for (const name of names) {
    if ((options as Record<string, unknown>)[name] !== undefined) {
      throw new RangeError(
        `'${where}path' and '${where}${name}' cannot be given together: a Unix domain socket has a path instead of a host and port`,
      );
    }
  }
}
