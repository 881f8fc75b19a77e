/**
 * nginx as the ceiling of the HTTP benchmark: one process (`master_process
 * off`, so the one process is the one worker), the access log off, a
 * `return 200` location with the HTTP example's body, keep-alive with no
 * request limit, listening on 127.0.0.1 only. Started from a configuration
 * written to a temporary folder, stopped by its PID.
 *
 * Where nginx is not on PATH, its Debian package is fetched with `apt-get
 * download` (after `apt-get update` when running as root) and unpacked
 * into a cache folder outside the repository with `dpkg-deb -x`: nothing is
 * installed, and no service is started. Where neither works, the benchmark
 * goes on without the ceiling and says why.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CACHE = join(tmpdir(), 'tsreactor-nginx');
const UNPACKED = join(CACHE, 'root', 'usr', 'sbin', 'nginx');

function works(binary: string): boolean {
  return spawnSync(binary, ['-v'], { encoding: 'utf8' }).status === 0;
}

/** An nginx binary to run, or undefined (and a line saying why) where none can be had. */
export function findNginx(log: (line: string) => void): string | undefined {
  const onPath = spawnSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8' }).stdout.trim();
  if (onPath !== '' && works(onPath)) return onPath;
  if (existsSync(UNPACKED) && works(UNPACKED)) return UNPACKED;
  const apt = spawnSync('apt-get', ['--version'], { encoding: 'utf8' }).error === undefined;
  if (!apt) {
    log('nginx is not installed and there is no apt-get to fetch it: the nginx ceiling is skipped');
    return undefined;
  }
  mkdirSync(CACHE, { recursive: true });
  log(`nginx is not on PATH: fetching its Debian package into ${CACHE} (apt-get download, dpkg-deb -x; nothing is installed) ...`);
  const download = () => spawnSync('apt-get', ['download', '-qq', 'nginx'], { cwd: CACHE, stdio: 'ignore', timeout: 180_000 }).status === 0;
  let fetched = download();
  if (!fetched && process.getuid?.() === 0) {
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore', timeout: 180_000 });
    fetched = download();
  }
  const deb = readdirSync(CACHE).find((file) => file.startsWith('nginx_') && file.endsWith('.deb'));
  if (
    !fetched ||
    deb === undefined ||
    spawnSync('dpkg-deb', ['-x', join(CACHE, deb), join(CACHE, 'root')]).status !== 0 ||
    !works(UNPACKED)
  ) {
    log('fetching nginx failed (run as root, or install nginx): the nginx ceiling is skipped');
    return undefined;
  }
  return UNPACKED;
}

/** A port on 127.0.0.1 that was free a moment ago (nginx cannot be told to pick one). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function config(folder: string, port: number): string {
  return `daemon off;
master_process off;
worker_processes 1;
pid ${folder}/nginx.pid;
error_log ${folder}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000000;
  keepalive_timeout 75s;
  client_body_temp_path ${folder}/body;
  proxy_temp_path ${folder}/proxy;
  fastcgi_temp_path ${folder}/fastcgi;
  uwsgi_temp_path ${folder}/uwsgi;
  scgi_temp_path ${folder}/scgi;
  server {
    listen 127.0.0.1:${port};
    location / { default_type text/plain; return 200 "Hello, world!\\n"; }
  }
}
`;
}

/** nginx, started and answering on 127.0.0.1:`port`; `stop` ends it by its PID and removes its folder. */
export async function startNginx(binary: string): Promise<{ pid: number; port: number; stop(): Promise<void> }> {
  const folder = mkdtempSync(join(tmpdir(), 'tsreactor-nginx-run-'));
  const port = await freePort();
  writeFileSync(join(folder, 'nginx.conf'), config(folder, port));
  const child: ChildProcess = spawn(binary, ['-p', folder, '-e', join(folder, 'error.log'), '-c', join(folder, 'nginx.conf')], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(folder, { recursive: true, force: true });
  };
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) break;
    if (await answers(port)) return { pid: child.pid as number, port, stop };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await stop();
  throw new Error(`nginx did not start on 127.0.0.1:${port}`);
}
