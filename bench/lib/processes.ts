import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

/** A server started in its own process. */
export interface ServerProcess {
  port: number;
  pid: number;
  /** Stops it by its PID (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
}

function tsNode(script: string, args: string[]): ChildProcess {
  return spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join(root, script), ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

/** Starts a TypeScript server that prints `listening on <host>:<port>`; resolves once it does. */
export function startServer(script: string, args: string[] = ['--port', '0']): Promise<ServerProcess> {
  const child = tsNode(script, args);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (data: Buffer) => {
      out += data.toString();
      const match = /listening on \S+:(\d+)/.exec(out);
      if (match === null) return;
      child.stdout?.off('data', onData);
      child.stdout?.resume();
      resolve({
        port: Number(match[1]),
        pid: child.pid as number,
        async stop() {
          child.kill('SIGTERM');
          await exited;
        },
      });
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${script} exited (${String(code)}) before listening: ${out}`)));
  });
}

/** Runs a TypeScript client to completion and parses the JSON line it prints last. */
export function runClient<T>(script: string, args: string[]): Promise<T> {
  const child = tsNode(script, args);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (data: Buffer) => (out += data.toString()));
    child.once('exit', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0) reject(new Error(`${script} exited with ${String(code)}: ${out}`));
      else resolve(JSON.parse(last) as T);
    });
  });
}

let ticksPerSecond: number | undefined;

/**
 * CPU seconds (user + system) that process `pid` has used so far, read from
 * /proc (Linux); `undefined` where that is not available.
 */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from "state" on
    ticksPerSecond ??= Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond; // utime, stime
  } catch {
    return undefined;
  }
}
