/**
 * The seed the `TSREACTOR_SEED` environment variable names, or `undefined`
 * when it is not set (or empty). A simulation whose test gives no seed takes
 * this one, so a failing seed replays without editing the test:
 * `TSREACTOR_SEED=1234 npx jest -t 'the test'`.
 *
 * @throws RangeError naming the variable when it is set to something other than an integer.
 */
export function seedFromEnvironment(): number | undefined {
  const text = process.env.TSREACTOR_SEED;
  if (text === undefined || text.trim() === '') return undefined;
  const seed = Number(text);
  if (!Number.isSafeInteger(seed)) throw new RangeError(`'TSREACTOR_SEED' must be an integer, got ${JSON.stringify(text)}`);
  return seed;
}
