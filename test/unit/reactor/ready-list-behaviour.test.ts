import { Events, Interest, Reactor, Readiness } from '../../../src';
import { StubBackend } from '../../helpers/stub-backend';

/** The reactor's ready list, driven exactly: readiness is set by hand, no sockets. */
describe('the ready list, through the reactor', () => {
  let backend: StubBackend;
  let reactor: Reactor<string>;

  beforeEach(() => {
    backend = new StubBackend();
    reactor = new Reactor<string>({ backend });
  });
  afterEach(() => reactor.close());

  const open = (n: number) => Array.from({ length: n }, () => reactor.connect({ host: 'stub', port: 1 }));
  const tokens = async (events: Events<string>) => {
    await reactor.poll(events, 0);
    return [...events].map((e) => e.token);
  };

  test('level-triggered ready fds are served round-robin, a full batch at a time', async () => {
    const fds = open(5);
    fds.forEach((fd, i) => {
      reactor.register(fd, Interest.READABLE, { token: `fd${i}` });
      backend.arrive(fd, Readiness.READABLE);
    });
    const events = new Events<string>(2);
    const seen: (string | undefined)[][] = [];
    for (let i = 0; i < 5; i++) seen.push(await tokens(events));
    expect(seen).toEqual([
      ['fd0', 'fd1'],
      ['fd2', 'fd3'],
      ['fd4', 'fd0'],
      ['fd1', 'fd2'],
      ['fd3', 'fd4'],
    ]);
  });

  test('edge-triggered: the rest of a full batch comes next poll, in order, and then nothing', async () => {
    const fds = open(5);
    fds.forEach((fd, i) => reactor.register(fd, Interest.READABLE, { trigger: 'edge', token: `fd${i}` }));
    fds.forEach((fd) => backend.arrive(fd, Readiness.READABLE));
    const events = new Events<string>(2);
    expect(await tokens(events)).toEqual(['fd0', 'fd1']);
    expect(await tokens(events)).toEqual(['fd2', 'fd3']);
    expect(await tokens(events)).toEqual(['fd4']);
    expect(await tokens(events)).toEqual([]);
  });

  test('a ready fd that stops being ready drops out of the list', async () => {
    const [a, b] = open(2);
    reactor.register(a, Interest.READABLE, { token: 'a' });
    reactor.register(b, Interest.READABLE, { token: 'b' });
    backend.arrive(a, Readiness.READABLE);
    backend.arrive(b, Readiness.READABLE);
    const events = new Events<string>();
    expect(await tokens(events)).toEqual(['a', 'b']);
    backend.readinessOf.set(a, 0); // drained
    expect(await tokens(events)).toEqual(['b']);
    expect(await tokens(events)).toEqual(['b']);
  });

  test('a stale entry (closed fd, number reused) never reaches the new registration', async () => {
    const [a] = open(1);
    reactor.register(a, Interest.READABLE, { token: 'old' });
    backend.arrive(a, Readiness.READABLE); // queued
    const generation = reactor.info(a).generation;
    reactor.close(a);
    const [reused] = open(1);
    expect(reused).toBe(a);
    expect(reactor.info(reused).generation).toBe(generation + 1);
    reactor.register(reused, Interest.READABLE, { token: 'new' });
    const events = new Events<string>();
    expect(await tokens(events)).toEqual([]);
    backend.arrive(reused, Readiness.READABLE);
    expect(await tokens(events)).toEqual(['new']);
  });

  test('an arrival for a bit outside the interest does not queue the fd', async () => {
    const [a] = open(1);
    reactor.register(a, Interest.READABLE, { trigger: 'edge', token: 'a' });
    backend.arrive(a, Readiness.WRITABLE);
    const events = new Events<string>();
    expect(await tokens(events)).toEqual([]);
  });
});
