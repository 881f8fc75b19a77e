import { type BackendSettings, type BackendSink, type Clock, ReactorError, Readiness } from '../../src';
import { FaultyBackend } from '../contract/faulty-backend';

const EMPTY = Buffer.alloc(0);

/**
 * A deliberately broken backend, to prove the differential suite catches a
 * divergence: it takes every reset for an orderly end of stream (the bug
 * LibuvBackend had, where libuv reported a reset after a partial read as
 * EOF). Errors become `readable` + `readClosed`, and `read` returns end of
 * stream where it would throw.
 */
export class ResetAsEndBackend extends FaultyBackend {
  override attach(sink: BackendSink, clock: Clock, settings: BackendSettings): void {
    super.attach({ ready: (fd, edges) => sink.ready(fd, disguise(edges)), fail: (error) => sink.fail(error) }, clock, settings);
  }

  override readiness(fd: number): number {
    return disguise(super.readiness(fd));
  }

  override read(fd: number, maxBytes: number): Buffer | null {
    try {
      return super.read(fd, maxBytes);
    } catch (err) {
      if (err instanceof ReactorError && err.code === 'ECONNRESET') return EMPTY;
      throw err;
    }
  }
}

function disguise(bits: number): number {
  if ((bits & Readiness.ERROR) === 0) return bits;
  return (bits & ~(Readiness.ERROR | Readiness.WRITE_CLOSED)) | Readiness.READABLE | Readiness.READ_CLOSED;
}
