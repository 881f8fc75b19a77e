import { startProcess, type StartedProcess } from '../lib/processes';

/** The stress server in its own process, its ports, and its own account of what it holds. */
export interface StressTarget {
  process: StartedProcess;
  httpPort: number;
  echoPort: number;
  /** What the server still holds, as it says. */
  report(): Promise<ServerReport>;
  /** SIGTERM, then its last line (`stopped {...}`), parsed. */
  stop(): Promise<StoppedReport>;
}

export interface ServerReport {
  connections: number;
  descriptors: number;
  lingering: number;
  bufferedBytes: number;
  requests: number;
  accepts: number;
  drops: number;
  callbackErrors: number;
  heapUsed: number;
}

export interface StoppedReport {
  requests: number;
  accepts: number;
  drops: number;
  callbackErrors: number;
}

/**
 * Starts bench/stress/stress-server.ts on `backend`; `ulimit` caps its open
 * descriptors (soft and hard), by running it under `bash -c 'ulimit -n N; exec node ...'`.
 */
export async function startStressTarget(
  backend: 'libuv' | 'raw',
  options: { ulimit?: number; headersTimeoutMs?: number } = {},
): Promise<StressTarget> {
  const args = ['--backend', backend, '--headers-timeout-ms', String(options.headersTimeoutMs ?? 2_000)];
  const started = await startProcess('bench/stress/stress-server.ts', args, /listening on 127\.0\.0\.1:(\d+) echo (\d+)/, {
    stdin: true,
    ulimit: options.ulimit,
  });
  const lines: string[] = [];
  const next = async (pattern: RegExp): Promise<string> => {
    for (;;) {
      const line = await started.nextLine();
      lines.push(line);
      if (pattern.test(line)) return line;
    }
  };
  return {
    process: started,
    httpPort: Number(started.ready[1]),
    echoPort: Number(started.ready[2]),
    async report() {
      started.send('report');
      return JSON.parse(await next(/^\{/)) as ServerReport;
    },
    async stop() {
      const stopped = next(/^stopped /);
      await started.stop();
      return JSON.parse((await stopped).slice('stopped '.length)) as StoppedReport;
    },
  };
}
