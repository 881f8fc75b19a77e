import {
  type CloseReason,
  type ConnectionHandlers,
  EventLoop,
  type EventLoopOptions,
  Reactor,
  SimulatedBackend,
  type SimulatedBackendOptions,
} from '../../src';

/** An event loop serving port 7000 on a fresh simulated network, running in the background. */
export async function simulatedLoop(
  handlers: ConnectionHandlers,
  options: Omit<EventLoopOptions, 'reactor'> = {},
  simOptions: SimulatedBackendOptions = {},
) {
  const sim = new SimulatedBackend({ seed: 1, ...simOptions });
  const loop = new EventLoop({ ...options, reactor: new Reactor({ backend: sim }) });
  const closed: { id: number; reason: CloseReason; error?: string }[] = [];
  const servers = await loop.listen([{ host: '127.0.0.1', port: 7000 }], {
    ...handlers,
    onClose(conn, reason, error) {
      closed.push({ id: conn.id, reason, error: (error as { code?: string } | undefined)?.code });
      handlers.onClose?.(conn, reason, error);
    },
  });
  const running = loop.run();
  return { sim, loop, running, closed, servers };
}

/** Lets the loop and the simulated network run until `condition` holds (bounded). */
export async function waitUntil(condition: () => boolean, turns = 100_000): Promise<void> {
  for (let i = 0; i < turns && !condition(); i++) await new Promise((resolve) => setImmediate(resolve));
  expect(condition()).toBe(true);
}

/** Lets the loop and the simulated network run for `turns` turns of the host event loop. */
export async function turns(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve));
}
