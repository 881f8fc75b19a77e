#!/usr/bin/env node
/**
 * The functions that took the most CPU in a V8 CPU profile (`node
 * --cpu-prof`), by self time, as shares of the busy time (idle excluded):
 * where a server's time per request goes.
 *
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof -r ts-node/register/transpile-only \
 *     examples/http-server.ts --host 127.0.0.1 --port 8080 --backend raw
 *   # load it (wrk -t1 -c50 -d10s http://127.0.0.1:8080/), stop it by its PID (SIGTERM), then:
 *   node scripts/profile-top.js /tmp/prof/CPU.*.cpuprofile [--top 25]
 *
 * Start-up (loading, compiling TypeScript) is in the profile too: load for
 * long enough that it does not matter, or read past the lines it takes.
 */
'use strict';
const { readFileSync } = require('node:fs');

const args = process.argv.slice(2);
const topIndex = args.indexOf('--top');
const top = topIndex >= 0 ? Number(args.splice(topIndex, 2)[1]) : 25;
if (args.length !== 1) {
  console.error('usage: node scripts/profile-top.js <file.cpuprofile> [--top N]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(args[0], 'utf8'));
const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
const selfTime = new Map();
let busy = 0;
profile.samples.forEach((id, i) => {
  const frame = nodes.get(id).callFrame;
  const dt = profile.timeDeltas[i] ?? 0;
  if (frame.functionName === '(idle)') return;
  busy += dt;
  const where = frame.url === '' ? '' : ` ${frame.url.replace(/^.*?\/(src|examples|bench|node_modules)\//, '$1/')}:${frame.lineNumber + 1}`;
  const key = `${frame.functionName || '(anonymous)'}${where}`;
  selfTime.set(key, (selfTime.get(key) ?? 0) + dt);
});
console.log(`busy ${(busy / 1e6).toFixed(2)} s of CPU samples; self time, highest first:`);
for (const [key, time] of [...selfTime].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(`${((100 * time) / busy).toFixed(1).padStart(5)} %  ${key}`);
}
