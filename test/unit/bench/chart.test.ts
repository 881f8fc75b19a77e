import { barsOf, renderChart } from '../../../bench/lib/chart';
import { type Row, verdict } from '../../../bench/lib/report';

const faster: Row = {
  name: 'echo',
  value: 120,
  unit: 'msg/s',
  baselineName: 'node:net',
  baselineValue: 100,
  better: 'higher',
  target: 0.95,
};
const slower: Row = {
  name: 'http',
  value: 100,
  unit: 'req/s',
  baselineName: 'node:http',
  baselineValue: 80,
  better: 'higher',
  target: 1.6,
};
const memory: Row = { name: 'memory', value: 46, unit: 'B', better: 'lower', limit: 48 };
const plain: Row = { name: 'wall time', value: 500, unit: 'ms', better: 'lower' };

describe('the benchmark chart', () => {
  test('a row with a baseline is a bar at its ratio, with its target', () => {
    expect(barsOf(faster)).toEqual([expect.objectContaining({ ratio: 1.2, target: 0.95, note: '1.20x (target 0.95x)' })]);
    expect(barsOf({ ...faster, better: 'lower' })[0].ratio).toBeCloseTo(100 / 120);
  });

  test('a row with a limit is its headroom against 1x; a row with neither is left out', () => {
    expect(barsOf(memory)).toEqual([expect.objectContaining({ target: 1, note: '46.0 B' })]);
    expect(barsOf(memory)[0].ratio).toBeCloseTo(48 / 46);
    expect(barsOf(plain)).toEqual([]);
  });

  test('draws met targets green, missed red, no target grey; labels escaped', () => {
    const svg = renderChart(
      [
        { name: 'echo', rows: [faster, { ...faster, target: undefined, name: 'a <b> & "c"' }] },
        { name: 'http', rows: [slower, plain] },
      ],
      'test machine',
    );
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('fill="#2e7d32"'); // echo: 1.2x against 0.95x
    expect(svg).toContain('fill="#c62828"'); // http: 1.25x against 1.6x
    expect(svg).toContain('fill="#9e9e9e"'); // no target
    expect(svg).toContain('a &lt;b&gt; &amp; &quot;c&quot;');
    expect(svg).not.toContain('wall time'); // no ratio, no limit: not charted
    expect(svg).not.toContain('NaN');
  });

  test('the same results give the same file', () => {
    const sections = [{ name: 'echo', rows: [faster, memory] }];
    expect(renderChart(sections, 'm')).toBe(renderChart(sections, 'm'));
  });
});

describe('verdict', () => {
  test('a ratio against its target, or a value against its limit', () => {
    expect(verdict(faster)).toEqual({ met: true, text: '0.95x' });
    expect(verdict(slower)).toEqual({ met: false, text: '1.6x' });
    expect(verdict(memory)).toEqual({ met: true, text: '<= 48.0 B' });
    expect(verdict({ ...memory, value: 50 })?.met).toBe(false);
    expect(verdict(plain)).toBeUndefined();
  });
});
