import * as dgram from 'node:dgram';
import { ReactorError } from '../../reactor-error';
import { Readiness } from '../../readiness';
import type { Datagram, DatagramOptions, HandleInfo } from '../backend';
import { datagramInfo } from '../handle-info';
import { DatagramQueue } from '../datagram-queue';
import { compactFront } from '../../compact-front';

const kHandle = Symbol('tsreactor.datagram');
type Tagged = dgram.Socket & { [kHandle]?: DatagramHandle };

/** One datagram socket: its `node:dgram` socket, its bounded receive queue, its send-queue state. */
class DatagramHandle {
  readonly fd: number;
  readonly socket: Tagged;
  readonly options: DatagramOptions;
  readonly owner: DatagramSockets;
  /** Received, not yet taken. */
  readonly queue: DatagramQueue;
  /** Datagrams `send` accepted that the system then failed. */
  sendFailures = 0;
  bytesRead = 0;
  bytesWritten = 0;
  /** `send` takes more (the send queue is under its bound, or back under half of it since it was full). */
  writable = true;
  /** Bytes handed to `node:dgram` and not yet sent (its callback not yet called): the send queue. */
  unsent = 0;
  /** The sizes of the datagrams in the send queue, oldest first (`sizes[sizesHead..]`): sends complete in order. */
  readonly sizes: number[] = [];
  sizesHead = 0;
  error: ReactorError | undefined;
  closed = false;
  /** Called by `node:dgram` once each send is done: one function per socket, not one per datagram. */
  readonly afterSend: (err: Error | null) => void;

  constructor(fd: number, socket: Tagged, options: DatagramOptions, owner: DatagramSockets) {
    this.fd = fd;
    this.socket = socket;
    this.options = options;
    this.owner = owner;
    this.queue = new DatagramQueue(options.receiveQueueDatagrams, options.receiveQueueBytes);
    this.afterSend = (err) => owner.sent(this, err);
  }
}

/** `'message'`, at module level: the socket finds its handle through a back-reference (no closure per socket). */
function onMessage(this: Tagged, data: Buffer, from: dgram.RemoteInfo): void {
  const handle = this[kHandle];
  if (handle !== undefined) handle.owner.received(handle, data, from);
}

function onError(this: Tagged, err: Error): void {
  const handle = this[kHandle];
  if (handle !== undefined) handle.owner.failed(handle, err);
}

/**
 * The datagram sockets of a backend on real sockets (LibuvBackend and
 * RawHandleBackend alike: `node:dgram` is already one system call per
 * datagram, so the raw backend has nothing to gain from `udp_wrap`).
 *
 * `node:dgram` has no pause: it reads every datagram the kernel has, so
 * the bound of the receive queue is kept here: a datagram that arrives
 * while the queue holds `receiveQueueDatagrams` or would pass
 * `receiveQueueBytes` is dropped and counted, as the kernel drops one past
 * `SO_RCVBUF`; and the kernel's own buffer is raised to `receiveQueueBytes`
 * where that is more (`SO_RCVBUF`, within `net.core.rmem_max`), so that what a burst
 * brings reaches this queue rather than being dropped where no one counts.
 * Sending: `node:dgram` holds each datagram until it is sent (it resolves
 * the address on a later tick, then libuv queues what the kernel cannot
 * take at once); the bytes it holds are counted from `send` to its
 * callback, and past `sendQueueBytes` `send` returns 0 and `writable` is
 * off until they are back under half.
 * Internal to the backends.
 */
export class DatagramSockets {
  readonly #handles = new Map<number, DatagramHandle>();
  readonly #closing = new Set<dgram.Socket>();
  #whenClosed: (() => void) | undefined;
  readonly #notify: (fd: number, edges: number) => void;

  constructor(notify: (fd: number, edges: number) => void) {
    this.#notify = notify;
  }

  has(fd: number): boolean {
    return this.#handles.has(fd);
  }

  open(fd: number, options: DatagramOptions): Promise<void> {
    const socket: Tagged = dgram.createSocket({ type: options.type, ipv6Only: options.ipv6Only, reuseAddr: options.reuseAddr });
    const handle = new DatagramHandle(fd, socket, options, this);
    this.#handles.set(fd, handle);
    return new Promise((resolve, reject) => {
      const failed = (err: Error) => reject(ReactorError.from(err, { fd }));
      socket.once('error', failed);
      // exclusive: a cluster worker binds its own socket (datagrams are not handed out by the primary).
      socket.bind({ address: options.host, port: options.port, exclusive: true }, () => {
        socket.off('error', failed);
        // Raised, never lowered (each datagram costs the kernel several hundred bytes beyond its payload); the kernel caps it at net.core.rmem_max.
        try {
          if (socket.getRecvBufferSize() < options.receiveQueueBytes) socket.setRecvBufferSize(options.receiveQueueBytes);
        } catch {
          // best effort: the default buffer serves too, it only absorbs smaller bursts
        }
        socket[kHandle] = handle;
        socket.on('error', onError);
        socket.on('message', onMessage);
        resolve();
      });
    });
  }

  receive(fd: number, maxBytes: number): Datagram | null {
    const handle = this.#handle(fd);
    const datagram = handle.queue.take(maxBytes);
    if (datagram === null && handle.error !== undefined) throw handle.error;
    return datagram;
  }

  send(fd: number, data: Uint8Array, address: string, port: number): number {
    const handle = this.#handle(fd);
    if (handle.error !== undefined) throw handle.error;
    if (!handle.writable) return 0;
    handle.socket.send(data, port, address, handle.afterSend);
    handle.bytesWritten += data.length;
    handle.unsent += data.length;
    handle.sizes.push(data.length);
    if (handle.unsent >= handle.options.sendQueueBytes) handle.writable = false;
    return data.length;
  }

  readiness(fd: number): number {
    const handle = this.#handles.get(fd);
    if (handle === undefined) return 0;
    if (handle.error !== undefined) return Readiness.READABLE | Readiness.ERROR;
    return (handle.queue.length > 0 ? Readiness.READABLE : 0) | (handle.writable ? Readiness.WRITABLE : 0);
  }

  info(fd: number): HandleInfo {
    const handle = this.#handle(fd);
    let address: { address: string; port: number; family: string } | undefined;
    try {
      address = handle.socket.address();
    } catch {
      address = undefined; // not bound (any more)
    }
    return datagramInfo({
      localAddress: address?.address,
      localPort: address?.port,
      type: handle.options.type,
      bytesRead: handle.bytesRead,
      bytesWritten: handle.bytesWritten,
      readBuffered: handle.queue.bytes,
      writeBuffered: handle.unsent,
      droppedDatagrams: handle.queue.dropped + handle.sendFailures,
    });
  }

  /** Releases `fd`: what waits in its queues is dropped (a datagram socket does not linger). */
  close(fd: number): void {
    const handle = this.#handles.get(fd);
    if (handle === undefined) return;
    this.#handles.delete(fd);
    handle.closed = true;
    handle.queue.clear();
    const socket = handle.socket;
    socket.off('message', onMessage);
    this.#closing.add(socket);
    try {
      socket.close(() => this.#released(socket));
    } catch {
      this.#released(socket); // closed already (ERR_SOCKET_DGRAM_NOT_RUNNING)
    }
  }

  /** Closes every datagram socket; resolves once each is released. */
  async dispose(): Promise<void> {
    for (const fd of [...this.#handles.keys()]) this.close(fd);
    if (this.#closing.size === 0) return;
    await new Promise<void>((resolve) => (this.#whenClosed = resolve));
  }

  /** @internal */
  received(handle: DatagramHandle, data: Buffer, from: dgram.RemoteInfo): void {
    if (!handle.queue.offer({ data, address: from.address, port: from.port })) return;
    handle.bytesRead += data.length;
    this.#notify(handle.fd, Readiness.READABLE);
  }

  /** @internal A send is done: a failed one is a datagram lost; room in the send queue again is a writable edge. */
  sent(handle: DatagramHandle, err: Error | null): void {
    if (handle.closed) return;
    if (err !== null) handle.sendFailures++;
    handle.unsent -= handle.sizes[handle.sizesHead++];
    handle.sizesHead = compactFront(handle.sizes, handle.sizesHead);
    if (!handle.writable && handle.unsent <= handle.options.sendQueueBytes / 2) {
      handle.writable = true;
      this.#notify(handle.fd, Readiness.WRITABLE);
    }
  }

  /** @internal The socket failed: `recvFrom` throws once the queue is drained, `sendTo` at once. */
  failed(handle: DatagramHandle, err: Error): void {
    if (handle.closed || handle.error !== undefined) return;
    handle.error = ReactorError.from(err, { fd: handle.fd });
    this.#notify(handle.fd, Readiness.READABLE | Readiness.ERROR);
  }

  #handle(fd: number): DatagramHandle {
    const handle = this.#handles.get(fd);
    if (handle === undefined) throw new ReactorError('EBADF', `fd ${fd} has no datagram socket in this backend`, { fd });
    return handle;
  }

  #released(socket: dgram.Socket): void {
    this.#closing.delete(socket);
    if (this.#closing.size === 0) this.#whenClosed?.();
  }
}
