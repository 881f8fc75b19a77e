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
