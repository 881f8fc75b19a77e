/**
 * Step 10: descriptors beyond TCP.
 *
 * epoll watches any descriptor, and so does the reactor: a UDP socket
 * (`socket(AF_INET, SOCK_DGRAM)`, `recvfrom`, `sendto`), a Unix domain
 * stream socket (`socket(AF_UNIX, SOCK_STREAM)` at a path, as behind nginx),
 * and signals turned into a readable descriptor (`signalfd`). One poll
 * waits for all three.
 *
 * Run: npx ts-node examples/10-beyond-tcp.ts
 */
import * as dgram from 'node:dgram';
import * as http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Events, Interest, Reactor } from '../src';
import { startHttpServer } from './http-server';

/** Part 1: a UDP echo on the reactor, and what its bounded receive queue does with a flood. */
async function udpEcho(): Promise<void> {
  const reactor = new Reactor();
  const events = new Events();
  const fd = await reactor.bind({ host: '127.0.0.1', port: 0, receiveQueueDatagrams: 8 });
  const port = reactor.info(fd).localPort as number;
  reactor.register(fd, Interest.READABLE);

  const client = dgram.createSocket('udp4');
  const answers: string[] = [];
  client.on('message', (data) => answers.push(data.toString()));
  await new Promise<void>((resolve) => client.bind(0, '127.0.0.1', resolve));
  for (const text of ['ping', 'two words', '']) client.send(text, port, '127.0.0.1');

  // Each recvFrom is one whole datagram with its sender (recvfrom(2)); each sendTo one datagram back (sendto(2)).
  for (let echoed = 0; echoed < 3;) {
    await reactor.poll(events, 1_000);
    for (let d = reactor.recvFrom(fd); d !== null; d = reactor.recvFrom(fd), echoed++) {
      console.log(`udp: ${d.data.length} bytes from ${d.address}:${d.port}: "${d.data.toString()}"`);
      reactor.sendTo(fd, d.data, d.address, d.port);
    }
  }
  while (answers.length < 3) await new Promise((resolve) => setTimeout(resolve, 5));
  console.log(`client: ${answers.length} answers, boundaries kept: ${JSON.stringify(answers)}`);

  // A flood while the program does not read: the queue holds 8, the rest is dropped and counted, as a kernel drops past SO_RCVBUF.
  for (let i = 0; i < 20; i++) client.send(`flood ${i}`, port, '127.0.0.1');
  while (reactor.info(fd).droppedDatagrams < 12) await reactor.poll(events, 50);
  let queued = 0;
  while (reactor.recvFrom(fd) !== null) queued++;
  console.log(`flood of 20: ${queued} read, ${reactor.info(fd).droppedDatagrams} dropped and counted`);
  client.close();
  await reactor.close();
}

/** Part 2: the HTTP server of step 8 on a Unix domain socket instead of a port. */
async function httpOnAUnixSocket(): Promise<void> {
  const folder = mkdtempSync(join(tmpdir(), 'tsreactor-step10-'));
  const path = join(folder, 'http.sock');
  const server = await startHttpServer({ path });
  const running = server.loop.run();
  const info = server.loop.reactor.info(server.servers[0].fd);
  console.log(`http: listening on a ${info.family} socket, ${basename(path)} (no port: ${String(info.localPort)})`);
  const body = await new Promise<string>((resolve, reject) => {
    http
      .get({ socketPath: path, path: '/', agent: false }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve(`${res.statusCode} ${text.trim()}`));
      })
      .on('error', reject);
  });
  console.log(`curl --unix-socket ${basename(path)} http://localhost/ -> ${body}`);
  await server.close();
  await running;
  rmSync(folder, { recursive: true, force: true });
}

/** Part 3: signals as a descriptor, read like any other. */
async function signalsAsADescriptor(): Promise<void> {
  const reactor = new Reactor();
  const events = new Events();
  const fd = reactor.signal(['SIGUSR2', 'SIGHUP']); // while it is open, these do not end the process
  reactor.register(fd, Interest.READABLE);
  for (const sent of ['SIGUSR2', 'SIGHUP'] as const) {
    process.kill(process.pid, sent);
    await reactor.poll(events, 1_000); // the signal is an event of the poll, among any sockets'
    for (const { signal, count } of reactor.readSignals(fd) ?? []) console.log(`signal: ${signal} x${count}`);
  }
  await reactor.close(); // the signals get their default action back
}

async function main(): Promise<void> {
  await udpEcho();
  await httpOnAUnixSocket();
  await signalsAsADescriptor();
}

void main();
