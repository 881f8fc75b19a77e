import { pairedRow, ratioOf, verdict } from '../../../bench/lib/report';

describe('benchmark rows measured in pairs', () => {
  const row = { name: 'echo', unit: 'msg/s', baselineName: 'node:net', better: 'higher' as const, target: 1 };

  test("the ratio is the median of the rounds' ratios, not the ratio of the medians", () => {
    // The machine slowed down after the first round: each round, ours beat the baseline by 10%.
    const paired = pairedRow(row, [110, 55, 56], [100, 50, 51]);
    expect(paired.value).toBe(56);
    expect(paired.baselineValue).toBe(51);
    expect(ratioOf(paired)).toBeCloseTo(1.1, 2); // 56 / 51 would say 1.098, and a fast round against a slow one far more
    expect(verdict(paired)).toEqual({ met: true, text: '1x' });
    const skewed = pairedRow(row, [110, 55, 200], [100, 50, 400]);
    expect(ratioOf(skewed)).toBeCloseTo(1.1); // the odd round is outvoted
  });

  test('lower-is-better rows invert each round; unmeasured rounds are left out of both', () => {
    const cpu = pairedRow({ ...row, unit: 'µs', better: 'lower' }, [5, NaN, 6], [6, 7, 6]);
    expect(cpu.value).toBe(5.5);
    expect(cpu.baselineValue).toBe(6);
    expect(ratioOf(cpu)).toBeCloseTo((6 / 5 + 1) / 2);
  });

  test('no round measured: no ratio, and the target reads as missed for want of a figure', () => {
    const none = pairedRow(row, [NaN], [100]);
    expect(ratioOf(none)).toBeUndefined();
    expect(verdict(none)).toEqual({ met: false, text: '1x (no figure)' });
  });
});
