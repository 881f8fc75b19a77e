import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

/** A TypeScript program started in its own process, ready once it printed what we waited for. */
export interface StartedProcess {
  pid: number;
  /** What it printed that matched the ready pattern. */
  ready: RegExpExecArray;
  /** Writes a line to its stdin (if started with `stdin: true`). */
  send(line: string): void;
  /** The next line it prints. */
  nextLine(): Promise<string>;
  /** Stops it by its PID (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
}

/** A server started in its own process. */
export interface ServerProcess extends StartedProcess {
  port: number;
}

interface StartOptions {
  /** Node flags before the script (`--expose-gc`). */
  nodeArgs?: string[];
  /** Give it a stdin pipe (for `send`). */
  stdin?: boolean;
  /** Cap its open descriptors (soft and hard limit): it then runs as `bash -c 'ulimit -n N && exec node ...'`. */
  ulimit?: number;
  /** The checkout the script is taken from and runs in (another one, to compare two versions). Default: this one. */
  root?: string;
}

function tsNode(script: string, args: string[], options: StartOptions = {}): ChildProcess {
  const cwd = options.root ?? root;
  const argv = [...(options.nodeArgs ?? []), '-r', 'ts-node/register/transpile-only', join(cwd, script), ...args];
  const stdio: ['pipe' | 'ignore', 'pipe', 'inherit'] = [options.stdin === true ? 'pipe' : 'ignore', 'pipe', 'inherit'];
  if (options.ulimit === undefined) return spawn(process.execPath, argv, { cwd, stdio });
  const quoted = [process.execPath, ...argv].map((word) => `'${word.replaceAll("'", "'\\''")}'`).join(' ');
  // exec: the shell becomes node, so `pid` and a SIGTERM reach the program itself.
  return spawn('bash', ['-c', `ulimit -Sn ${options.ulimit} && ulimit -Hn ${options.ulimit} && exec ${quoted}`], { cwd, stdio });
}

/** Starts a TypeScript program and resolves once it prints a line matching `pattern`. */
export function startProcess(script: string, args: string[], pattern: RegExp, options: StartOptions = {}): Promise<StartedProcess> {
  const child = tsNode(script, args, options);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  let partial = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (text: string) => {
    partial += text;
    for (let i = partial.indexOf('\n'); i >= 0; i = partial.indexOf('\n')) {
      const line = partial.slice(0, i);
      partial = partial.slice(i + 1);
      const waiter = waiting.shift();
      if (waiter !== undefined) waiter(line);
      else lines.push(line);
    }
  });
  const nextLine = (): Promise<string> => {
    const line = lines.shift();
    return line !== undefined ? Promise.resolve(line) : new Promise((resolve) => waiting.push(resolve));
  };
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${script} exited (${String(code)}) before it was ready`)));
    const awaitReady = async () => {
      for (;;) {
        const line = await nextLine();
        const match = pattern.exec(line);
        if (match !== null) return match;
      }
    };
    void awaitReady().then((ready) =>
      resolve({
        pid: child.pid as number,
        ready,
        send: (line) => child.stdin?.write(`${line}\n`),
        nextLine,
        async stop() {
          child.kill('SIGTERM');
          await exited;
        },
      }),
    );
  });
}

/** Starts a TypeScript server that prints `listening on <host>:<port>`; resolves once it does. */
export async function startServer(script: string, args: string[] = ['--port', '0'], options: StartOptions = {}): Promise<ServerProcess> {
  const started = await startProcess(script, args, /listening on \S+:(\d+)/, options);
  return { ...started, port: Number(started.ready[1]) };
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

/**
 * CPU seconds of process `pid` and of its live children, added up (a
 * cluster's primary and its workers); `undefined` where /proc is not there.
 */
export function treeCpuSeconds(pid: number): number | undefined {
  const own = cpuSeconds(pid);
  if (own === undefined) return undefined;
  let total = own;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]); // ppid, after "state"
      if (parent === pid) total += cpuSeconds(Number(entry)) ?? 0;
    } catch {
      // it exited meanwhile
    }
  }
  return total;
}
