const NO_OPTIONS: object = Object.freeze({});

/**
 * The options argument of a public call: `undefined` stands for `{}`, and
 * anything that is not a plain object (`null`, a number, a string, an array,
 * a function) is refused with a `TypeError` naming the argument, before it
 * can reach a property read and fail there with an engine's message.
 *
 * @example
 * ```ts
 * import { optionsObject } from './options-object';
 *
 * function listen(options?: { port?: number }) {
 *   const { port = 0 } = optionsObject(options, 'options');
 *   return port;
 * }
 * listen(null as never); // TypeError: 'options' must be an object, got null
 * ```
 */
export function optionsObject<O extends object>(value: O | undefined, name: string): O;
export function optionsObject(value: unknown, name: string): object {
  if (value === undefined) return NO_OPTIONS; // one frozen object: nothing allocated per call (register, modify)
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`'${name}' must be an object, got ${describe(value)}`);
  }
  return value;
}

/** The options of a call that has required ones (listen, connect, bind...): an object, or a TypeError naming it. */
export function requiredOptions<O extends object>(options: O | undefined): O {
  if (options === undefined) throw new TypeError(`'options' must be an object, got undefined`);
  return optionsObject(options, 'options');
}

/** A port from `min` (0 to bind, 1 to reach) to 65535, or a RangeError naming `'port'`. */
export function checkPort(port: unknown, min: 0 | 1): void {
  if (!Number.isInteger(port) || (port as number) < min || (port as number) > 65_535) {
    throw new RangeError(`'port' must be an integer from ${min} to 65535, got ${describe(port)}`);
  }
}

/** A short, safe description of any value for an error message (symbols included). */
export function describe(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
    case 'function':
      return 'a function';
    case 'object':
      return value === null ? 'null' : Array.isArray(value) ? 'an array' : 'an object';
    case 'symbol':
      return value.toString();
    case 'bigint':
      return `${value}n`;
    default:
      return String(value);
  }
}
