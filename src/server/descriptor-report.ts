import type { DescriptorKind, Reactor } from '../reactor';

/** One entry of the leak report: an open descriptor, or a closed stream still lingering. */
export interface DescriptorReportEntry {
  /** The descriptor; for a lingering stream, the one it had (the number may serve another socket now). */
  fd: number;
  /** `'open'`, or `'lingering'`: closed, still sending what it held (see `Reactor.lingering`). */
  state: 'open' | 'lingering';
  kind: DescriptorKind;
  localAddress: string | undefined;
  localPort: number | undefined;
  remoteAddress: string | undefined;
  remotePort: number | undefined;
  /** When it was opened (for a lingering stream: closed), on the reactor's clock, and how long ago. */
  createdAtMs: number;
  openForMs: number;
  interest: number | undefined;
  trigger: string | undefined;
  /** Bytes this process holds for it: received and not read yet, accepted and not yet handed to the kernel. */
  readBuffered: number;
  writeBuffered: number;
}

/**
 * Everything the reactor still holds, oldest first: the leak report. Every
 * open descriptor, and every stream closed gracefully that still lingers
 * with bytes to send (it has no descriptor any more, but holds a socket and
 * memory until done or the reactor's `lingerMs` passes). Something that
 * should have been closed shows up here with how long it has been there and
 * how many bytes it holds.
 *
 * @example
 * ```ts
 * import { Reactor, descriptorReport } from 'tsreactor';
 *
 * const reactor = new Reactor();
 * for (const d of descriptorReport(reactor)) {
 *   console.log(`fd ${d.fd} (${d.state} ${d.kind}) for ${d.openForMs.toFixed(0)} ms, holding ${d.readBuffered + d.writeBuffered} bytes`);
 * }
 * ```
 */
export function descriptorReport(reactor: Reactor<never> | Reactor): DescriptorReportEntry[] {
  const now = reactor.clock.now();
  const open = reactor.descriptors().map((fd): DescriptorReportEntry => {
    const info = reactor.info(fd);
    return {
      fd,
      state: 'open',
      kind: info.kind,
      localAddress: info.localAddress,
      localPort: info.localPort,
      remoteAddress: info.remoteAddress,
      remotePort: info.remotePort,
      createdAtMs: info.createdAtMs,
      openForMs: now - info.createdAtMs,
      interest: info.interest,
      trigger: info.trigger,
      readBuffered: info.readBuffered,
      writeBuffered: info.writeBuffered,
    };
  });
  const lingering = reactor.lingering().map((l): DescriptorReportEntry => ({
    fd: l.fd,
    state: 'lingering',
    kind: 'stream',
    localAddress: undefined,
    localPort: undefined,
    remoteAddress: l.remoteAddress,
    remotePort: l.remotePort,
    createdAtMs: l.closedAtMs,
    openForMs: now - l.closedAtMs,
    interest: undefined,
    trigger: undefined,
    readBuffered: 0,
    writeBuffered: l.queuedBytes,
  }));
  return [...open, ...lingering].sort((a, b) => a.createdAtMs - b.createdAtMs);
}
