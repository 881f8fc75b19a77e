import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runProxyFailover } from '../../examples/proxy-failover';

const root = join(__dirname, '..', '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

/** Code shown in the docs is the code the tests run: a guide that drifted would fail here. */
describe('docs/testing-with-the-simulator.md', () => {
  const doc = read('docs/testing-with-the-simulator.md');
  test.each(['examples/uppercase-server.ts', 'test/docs/uppercase-server.sim.test.ts', 'examples/kv-server.ts', 'test/docs/kv-server.sim.test.ts'])('shows %s exactly as it is', (file) => {
    expect(doc).toContain('```ts\n' + read(file) + '```');
  });
  test('shows the proxy example’s timeline as it prints it', async () => {
    const timeline = await runProxyFailover(() => {});
    expect(doc).toContain('```text\n' + timeline.join('\n') + '\n```');
  });
});
