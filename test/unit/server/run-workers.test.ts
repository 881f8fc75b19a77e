import { EventLoop, runWorkers } from '../../../src';

/** Bad options are refused in the primary, before any worker is forked (so these run in the test's own process). */
describe('runWorkers: bad options', () => {
  const start = () => new EventLoop();

  test.each([
    [{ workers: 0, start }, /'workers' must be an integer from 1 to 1024, got 0/],
    [{ workers: 1.5, start }, /'workers' must be an integer/],
    [{ sharing: 'threads', start }, /'sharing' must be 'cluster' or 'reusePort', got "threads"/],
    [{ timeoutMs: -1, start }, /'timeoutMs' must be a number >= 0/],
    [{ maxRestarts: -1, start }, /'maxRestarts' must be an integer >= 0/],
    [{ start: 'server.js' }, /'start' must be a function/],
  ])('%o is refused', async (options, message) => {
    await expect(runWorkers(options as never)).rejects.toThrow(message);
  });

  test('null options are a TypeError naming them', async () => {
    await expect(runWorkers(null as never)).rejects.toThrow(/'options' must be an object/);
  });
});
