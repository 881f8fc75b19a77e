import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';

/** A port where connects go unanswered, and what releases it. */
export interface UnansweredPort {
  port: number;
  release(): Promise<void>;
}

/**
 * A loopback port whose SYNs go unanswered, as toward a host that is down,
 * without leaving loopback: a child process listens with a backlog of one
 * and is stopped (SIGSTOP), so it never accepts; once its accept queue is
 * full (two connections, held here), Linux drops every further SYN
 * (`ListenOverflows`), and a connect there stays in SYN_SENT while the
 * kernel retries. `release` closes the fillers and ends the child, by its
 * PID, and waits for it to exit.
 */
export async function unansweredLoopbackPort(host: '127.0.0.1' | '::1'): Promise<UnansweredPort> {
  const script = `const s = require('node:net').createServer().listen({ host: ${JSON.stringify(host)}, port: 0, backlog: 1 }, () => console.log(s.address().port));`;
  const child: ChildProcess = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.stdout?.once('data', (data: Buffer) => resolve(Number(data.toString().trim())));
  });
  child.stdout?.destroy();
  const pid = child.pid as number;
  process.kill(pid, 'SIGSTOP');
  const fillers: net.Socket[] = [];
  for (let i = 0; i < 2; i++) {
    const socket = net.connect({ host, port });
    socket.on('error', () => {});
    fillers.push(socket);
    await new Promise((resolve) => socket.once('connect', resolve)); // the kernel completes these two itself
  }
  return {
    port,
    async release() {
      for (const socket of fillers) socket.destroy();
      process.kill(pid, 'SIGCONT');
      process.kill(pid, 'SIGTERM');
      await exited;
    },
  };
}
