/**
 * Step 6: several listeners, IPv4 and IPv6.
 *
 * The SocketManager binds several addresses at once, all or nothing: if one
 * fails, the ones already bound are closed and the error names the address,
 * the code and what to do. '::' is dual stack: IPv4 and IPv6 clients alike.
 *
 * Run: npx ts-node examples/06-several-listeners.ts
 */
import * as net from 'node:net';
import { Events, Interest, Reactor, type ReactorError, SocketManager } from '../src';

function connect(host: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

async function main(): Promise<void> {
  const reactor = new Reactor();
  const manager = new SocketManager(reactor);
  const servers = await manager.setupServerSockets([
    { host: '127.0.0.1', port: 0 },
    { host: '::', port: 0 },
  ]);
  for (const s of servers) console.log(`listening on ${s.host} (${s.family}), port ${s.port}`);

  const dualStack = servers[1];
  reactor.register(dualStack.fd, Interest.READABLE);
  const clients = [await connect('127.0.0.1', dualStack.port)];
  if (dualStack.host === '::') clients.push(await connect('::1', dualStack.port));
  const events = new Events();
  let accepted = 0;
  while (accepted < clients.length) {
    await reactor.poll(events);
    for (let fd = manager.acceptConnection(dualStack.fd); fd !== null; fd = manager.acceptConnection(dualStack.fd)) {
      const info = reactor.info(fd);
      console.log(`'${dualStack.host}' accepted a client from ${info.remoteAddress}`);
      accepted++;
    }
  }

  // All or nothing: a port in use, named in the error.
  try {
    await manager.setupServerSockets([
      { host: '127.0.0.1', port: 0 },
      { host: '127.0.0.1', port: servers[0].port },
    ]);
  } catch (err) {
    console.log(`error: ${(err as ReactorError).message.replace(/\d{4,5}/g, '<port>')}`);
    console.log(`server sockets still bound: ${manager.serverSockets.length} (the first of the failed pair was closed)`);
  }
  for (const c of clients) c.destroy();
  await reactor.close();
}

void main();
