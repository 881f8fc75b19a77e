import type { Trigger } from '../../src';
import type { Peer } from '../contract/harness';

/** The runner's own model of one slot: what the scenario did, whatever the backend. */
export class Slot {
  readonly index: number;
  /** Which connection of the scenario (slots are reused): the data pattern's key. */
  connection = -1;
  fd = -1;
  /** The reactor's descriptor is open. */
  open = false;
  peer: Peer | undefined;
  /** The peer has not reset or closed its socket itself. */
  peerAlive = false;
  peerEnded = false;
  peerPaused = false;
  peerWritten = 0;
  reactorRead = 0;
  accepted = 0;
  /** Bytes written to the peer since it paused (while under the budget, `writable` holds everywhere). */
  writtenWhilePaused = 0;
  /**
   * Filled toward the peer, which is still paused. How much a paused peer's
   * kernel goes on absorbing, and when (its stream reads ahead; a window
   * update or a zero-window probe lets a few more bytes through, at times
   * hundreds of milliseconds later), is the kernel's: until the peer
   * resumes, `writable` and whether a write gets in are not compared.
   */
  filled = false;
  /**
   * The peer's FIN or reset reached the reactor's side while its inbox was
   * full. Whether a backend sees it before the program reads on depends on
   * how far it reads ahead of the program: RawHandleBackend stops at the
   * inbox limit (the FIN or RST waits in the kernel behind the data),
   * LibuvBackend lets Node read one high-water mark further, the simulator
   * delivers a FIN whatever its window. Until the program has read through
   * (a drain), that descriptor's events and single reads are not compared.
   */
  held = false;
  /** The trigger of the current registration, if any. */
  trigger: Trigger | undefined;
  /**
   * A drain has just read through a held descriptor registered edge-triggered:
   * the edge that the FIN or reset makes came during the held steps on a
   * backend that had seen it already, and comes now on one that had not, so
   * the next poll's event for it is not compared (a level registration's is:
   * its state is the same everywhere by now).
   */
  edgeAfterHeld = false;
  /** Something cut this connection short: byte counts toward the reactor are no longer the same everywhere. */
  inCut = false;
  /**
   * The peer's FIN-or-RST view is not compared, for one of two reasons:
   * - it wrote to a descriptor the reactor had closed: the closed socket
   *   answers with RST, and a peer that has read our FIN meets it at once
   *   only if some of its write is still queued, which depends on how much
   *   its kernel's send buffer took (until it writes again: by then every
   *   backend has the reset);
   * - the reactor reset a connection the peer had half-closed itself: a
   *   real peer's libuv reports a reset behind data as an end of stream, and
   *   once its own FIN is out no probe can tell (for good: it cannot write);
   * - on a Unix domain socket, the reactor closed (or aborted) holding data
   *   unread: Linux tells the peer `ECONNRESET` only if its kernel still
   *   held some, and a real backend may have read all of it into its inbox
   *   already (there is no RST to send in its place), so the peer sees an
   *   end of stream or a reset depending on how far the backend read ahead.
   */
  get peerViewUncertain(): boolean {
    return this.writesAfterClose === 1 || this.resetAfterPeerEnd || this.unixClosedUnread;
  }
  writesAfterClose = 0;
  resetAfterPeerEnd = false;
  unixClosedUnread = false;
  /** The reactor shut down its side (its FIN is out). */
  shut = false;
  /**
   * The peer sent data and a reset at once after the reactor's FIN: libuv
   * reports such a reset as an end of stream, and once our FIN is out no
   * probe can tell a reset from the peer's FIN (a closed connection has no
   * peer either), so whether the end shows as `error` or as end of stream is
   * not compared; that it ends is.
   */
  endUncertain = false;

  constructor(index: number) {
    this.index = index;
  }
}
