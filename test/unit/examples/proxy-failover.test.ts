import { runProxyFailover } from '../../../examples/proxy-failover';

describe('examples/proxy-failover.ts: a proxy, two backends, a partition and a heal, in one simulated world', () => {
  test('the health check notices the partition, traffic moves to backend-b, and comes back after the heal', async () => {
    const timeline = await runProxyFailover(() => {});
    expect(timeline).toEqual([
      '  1506 ms  client: backend-a: request 1',
      '  2506 ms  client: backend-b: request 2',
      '  3200 ms  world: the link proxy <-> backend-a is cut',
      '  3801 ms  proxy: backend-a did not answer the connect (ETIMEDOUT), trying another',
      '  3806 ms  client: backend-b: request 3',
      '  4300 ms  proxy: health check: backend-a is down',
      '  4506 ms  client: backend-b: request 4',
      '  5506 ms  client: backend-b: request 5',
      '  6506 ms  client: backend-b: request 6',
      '  7506 ms  client: backend-b: request 7',
      '  8200 ms  world: the link proxy <-> backend-a heals',
      '  8506 ms  client: backend-b: request 8',
      '  9004 ms  proxy: health check: backend-a is up again',
      '  9506 ms  client: backend-b: request 9',
      ' 10506 ms  client: backend-a: request 10',
      ' 11506 ms  client: backend-b: request 11',
      ' 12506 ms  client: backend-a: request 12',
    ]);
  });

  test('twelve seconds of simulated time, the same timeline every run, and the real clock back afterwards', async () => {
    const realNow = Date.now();
    const first = await runProxyFailover(() => {});
    expect(await runProxyFailover(() => {})).toEqual(first);
    expect(Math.abs(Date.now() - realNow)).toBeLessThan(60_000); // Date is the real one again
  });
});
