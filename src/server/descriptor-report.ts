import type { Reactor } from '../reactor';

/** One open descriptor, for leak reports. */
export interface DescriptorReportEntry {
  fd: number;
  kind: 'listener' | 'stream';
  localAddress: string | undefined;
  localPort: number | undefined;
  remoteAddress: string | undefined;
  remotePort: number | undefined;
  /** When it was opened (the reactor's clock) and how long ago. */
  createdAtMs: number;
  openForMs: number;
  interest: number | undefined;
  trigger: string | undefined;
}

/**
 * Every descriptor the reactor holds open, oldest first: the leak report.
 * Something that should have been closed shows up here with how long it has
 * been open.
 *
 * @example
 * ```ts
 * import { Reactor, descriptorReport } from 'tsreactor';
 *
 * const reactor = new Reactor();
 * for (const d of descriptorReport(reactor)) {
 *   console.log(`fd ${d.fd} (${d.kind}) open for ${d.openForMs.toFixed(0)} ms`);
 * }
 * ```
 */
export function descriptorReport(reactor: Reactor<never> | Reactor): DescriptorReportEntry[] {
  const now = reactor.clock.now();
  return reactor
    .descriptors()
    .map((fd) => {
      const info = reactor.info(fd);
      return {
        fd,
        kind: info.kind,
        localAddress: info.localAddress,
        localPort: info.localPort,
        remoteAddress: info.remoteAddress,
        remotePort: info.remotePort,
        createdAtMs: info.createdAtMs,
        openForMs: now - info.createdAtMs,
        interest: info.interest,
        trigger: info.trigger,
      };
    })
    .sort((a, b) => a.createdAtMs - b.createdAtMs);
}
