import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

describe('diagnostics channels cost nothing unobserved', () => {
  test('every publish in src reads hasSubscribers first, on the same channel, before building a message (no closure per event)', () => {
    const offenders: string[] = [];
    let publishes = 0;
    for (const file of sources(join(__dirname, '../../src'))) {
      const lines = readFileSync(file, 'utf8').split('\n');
      lines.forEach((line, i) => {
        const where = `${file.slice(file.indexOf('src/'))}:${i + 1}`;
        if (/\bpublish\(\s*Channels\.\w+\s*,/.test(line)) offenders.push(`${where}: a message builder passed to publish()`);
        const call = /(Channels\.\w+)\.publish\(/.exec(line);
        if (call === null) return;
        publishes++;
        const guard = `if (${call[1]}.hasSubscribers)`;
        // The check on the same line, or alone on the line before (where the formatter wrapped a long publish).
        if (!line.includes(`${guard} ${call[1]}.publish(`) && lines[i - 1]?.trim() !== guard)
          offenders.push(`${where}: publish without a hasSubscribers check first`);
      });
    }
    expect(offenders).toEqual([]);
    expect(publishes).toBeGreaterThanOrEqual(13); // the channels are still published
  });
});
