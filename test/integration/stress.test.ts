import { apiMisuse } from '../../bench/stress/api-misuse';
import { concurrentClients } from '../../bench/stress/echo-load';
import { httpFuzz } from '../../bench/stress/http-fuzz';
import { RawHandleBackend } from '../../src';
import { leakedSince, resourceCounts, settleHandles } from '../helpers/resources';

/**
 * A bounded part of `npm run stress` (bench/stress/): the same scenarios,
 * small. Each row must meet its target: nothing lost, nothing leaked. The
 * fuzz and the misuse run print their seed in the row; replay one with
 * `npm run stress -- --only fuzz,misuse --seed N`.
 */
describe('stress, a bounded part', () => {
  const seed = Number(process.env.STRESS_SEED ?? 29);
  let before: Record<string, number>;

  beforeEach(() => {
    before = resourceCounts();
  });

  afterEach(async () => {
    await settleHandles();
    expect(leakedSince(before)).toEqual({});
  });

  test('the HTTP example survives 1,000 fuzzed requests on the simulator: well-formed answers, no handler error, nothing left open', async () => {
    const row = await httpFuzz({ inputs: 1_000, seed });
    expect(row).toMatchObject({ lost: 0, leaked: 0, met: true });
  });

  test.each(['simulator', 'libuv', ...(RawHandleBackend.available() ? ['raw' as const] : [])] as const)(
    'API misuse on %s: 1,000 random calls, only clear errors, no handle left',
    async (backend) => {
      const row = await apiMisuse({ backend, calls: 1_000, seed });
      expect({ notes: row.notes, lost: row.lost, leaked: row.leaked }).toEqual({ notes: '', lost: 0, leaked: 0 });
    },
  );

  test('200 concurrent checksummed clients against the stress server in its own process', async () => {
    const row = await concurrentClients({ backend: 'libuv', quick: true, clients: 200 });
    expect(row).toMatchObject({ lost: 0, leaked: 0, met: true });
  }, 60_000);
});
