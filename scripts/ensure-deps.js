#!/usr/bin/env node
// Makes `npm start` and `npm test` do their own set-up on a fresh clone: if
// node_modules does not hold what package-lock.json pins, run `npm ci` first.
//
// The check compares package-lock.json with the hidden lock file that npm
// writes into node_modules on every install: each package must be there at
// the pinned version (optional ones, such as other platforms' binaries, may
// be absent). Uses nothing but Node itself: it runs before anything is
// installed.
'use strict';
const { execFileSync } = require('node:child_process');
const { existsSync, readFileSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');

/** The first package that is missing or at another version than pinned, or undefined if all match. */
function firstMismatch() {
  const hiddenFile = join(root, 'node_modules', '.package-lock.json');
  if (!existsSync(hiddenFile)) return 'node_modules';
  const pinned = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')).packages ?? {};
  const installed = JSON.parse(readFileSync(hiddenFile, 'utf8')).packages ?? {};
  for (const [path, entry] of Object.entries(pinned)) {
    if (path === '' || entry.link) continue;
    const found = installed[path];
    if (found === undefined ? !entry.optional : found.version !== entry.version) return path;
  }
  return undefined;
}

const mismatch = firstMismatch();
if (mismatch === undefined) process.exit(0);

console.log(`tsreactor: ${mismatch} does not match package-lock.json; running npm ci ...`);
const npm = process.env.npm_execpath; // set when run from an npm script
const [command, args] = npm ? [process.execPath, [npm, 'ci', '--no-audit', '--no-fund']] : ['npm', ['ci', '--no-audit', '--no-fund']];
execFileSync(command, args, { cwd: root, stdio: 'inherit' });
