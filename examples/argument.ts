/**
 * The value after `--<name>` on the command line of an example or benchmark
 * program, or `fallback` where the flag is absent or is the last word (no
 * value follows it). The flags are few and simple: a hand-rolled lookup
 * keeps the examples free of an argument parser.
 *
 * @example
 * ```ts
 * import { argument } from './argument';
 *
 * const port = Number(argument('port', '8080')); // `--port 9000` gives 9000
 * ```
 */
export function argument(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}
