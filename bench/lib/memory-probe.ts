/**
 * For benchmark servers: answers "measure" lines on stdin with one JSON line
 * of memory after a full collection (run the server with --expose-gc), so the
 * harness can ask at the moments it chooses and the server is otherwise left
 * alone.
 */
export function answerMemoryProbes(count: () => number): void {
  let buffered = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (text: string) => {
    buffered += text;
    let newline = buffered.indexOf('\n');
    while (newline >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (line === 'measure') {
        const gc = (globalThis as { gc?: () => void }).gc;
        gc?.();
        gc?.();
        const m = process.memoryUsage();
        console.log(
          JSON.stringify({ connections: count(), heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, rss: m.rss }),
        );
      }
      newline = buffered.indexOf('\n');
    }
  });
}
