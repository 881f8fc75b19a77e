import * as net from 'node:net';
import { leakedSince, resourceCounts, settleHandles } from '../../helpers/resources';

/** The leak check other tests rely on must itself see leaks. */
describe('leakedSince', () => {
  test('sees a timer left pending, and not once it is cleared', async () => {
    const before = resourceCounts();
    const timer = setTimeout(() => {}, 60_000);
    expect(leakedSince(before)).toEqual({ Timeout: 1 });
    clearTimeout(timer);
    await settleHandles();
    expect(leakedSince(before)).toEqual({});
  });

  test('sees a listening server and a connected socket until they are closed', async () => {
    const before = resourceCounts();
    const server = net.createServer((s) => s.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    expect(leakedSince(before)).toEqual({ TCPServerWrap: 1 });
    const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    client.on('error', () => {});
    await new Promise((resolve) => client.once('connect', resolve));
    expect(leakedSince(before).TCPSocketWrap).toBeGreaterThanOrEqual(1);
    await new Promise((resolve) => client.once('close', resolve));
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await settleHandles();
    expect(leakedSince(before)).toEqual({});
  });
});
