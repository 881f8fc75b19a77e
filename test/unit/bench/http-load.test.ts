import { parseWrk } from '../../../bench/lib/http-load';

const output = `Running 5s test @ http://127.0.0.1:33427/
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.07ms    1.44ms  36.59ms   95.55%
    Req/Sec   328.01k    35.91k  375.25k    80.00%
  Latency Distribution
     50%  880.00us
     75%    1.26ms
     90%    1.64ms
     99%    0.00us
  1630790 requests in 5.00s, 108.28MB read
Requests/sec: 326158.12
Transfer/sec:     36.07MB
`;

describe("reading wrk's output", () => {
  test('requests, duration, rate and latency percentiles in ms', () => {
    const result = parseWrk(output);
    expect(result).toMatchObject({ requests: 1_630_790, seconds: 5, requestsPerSecond: 326_158.12 });
    expect(result.latencyMs.p50).toBeCloseTo(0.88);
    expect(result.latencyMs.p90).toBeCloseTo(1.64);
    expect(result.latencyMs.p99).toBeNaN(); // wrk's 0.00us: not recorded, so unknown rather than zero
    expect(result.errors).toBeUndefined();
  });

  test('socket errors and non-2xx responses are reported, not hidden', () => {
    const result = parseWrk(`${output}  Socket errors: connect 0, read 0, write 0, timeout 12\n  Non-2xx or 3xx responses: 3\n`);
    expect(result.errors).toBe('Socket errors: connect 0, read 0, write 0, timeout 12; Non-2xx or 3xx responses: 3');
  });

  test('output it cannot read is an error that shows it', () => {
    expect(() => parseWrk('unable to connect to 127.0.0.1:1 Connection refused')).toThrow(/could not read wrk's output/);
  });
});
