/**
 * dialTransport's "happy eyeballs" between uTP and TCP. uTP is a scripted dialler (a promise the
 * test settles), TCP is real (a loopback server, or a closed port); the delay before TCP and the
 * uTP deadline come from a FakeClock, so nothing here waits for real time to pass.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { afterEach, describe, test } from 'node:test';
import { LodestoneError } from '../../../src/errors.js';
import { dialTransport, type UtpDialer } from '../../../src/peer/dial-transport.js';
import { FakeClock } from '../../helpers/fake-clock.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const done of cleanup.splice(0).reverse()) await done();
});

/** A loopback TCP server counting the connections it accepts. */
async function tcpServer(): Promise<{ server: Server; port: number; accepted: Socket[] }> {
  const accepted: Socket[] = [];
  const server = createServer((socket) => {
    accepted.push(socket);
    socket.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanup.push(() => {
    for (const socket of accepted) socket.destroy();
    return new Promise((resolve) => server.close(resolve));
  });
  return { server, port: (server.address() as { port: number }).port, accepted };
}

/** A port nobody listens on (a server bound then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A uTP dialler the test drives: each call is recorded with its signal and settled by hand. */
function scriptedUtp() {
  const calls: {
    host: string;
    port: number;
    signal: AbortSignal;
    resolve: (stream: Duplex) => void;
    reject: (error: Error) => void;
  }[] = [];
  const dial: UtpDialer = (host, port, signal) =>
    new Promise((resolve, reject) => {
      calls.push({ host, port, signal, resolve, reject });
      signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
    });
  return { dial, calls };
}

function fakeStream(): Duplex {
  return new Duplex({
    read() {},
    write(_c, _e, cb) {
      cb();
    },
  });
}

/** Lets pending promise callbacks and socket events run (no time passes on the FakeClock). */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('dialTransport (uTP first, TCP after a delay)', { timeout: 10_000 }, () => {
  test('uTP connecting within the delay wins: TCP is never dialled', async () => {
    const clock = new FakeClock();
    const tcp = await tcpServer();
    const utp = scriptedUtp();
    const dialed = dialTransport(
      { host: '127.0.0.1', port: tcp.port },
      { utp: utp.dial, clock, tcpDelayMs: 1000 },
    );
    assert.equal(utp.calls.length, 1);
    clock.advance(999);
    for (let i = 0; i < 20; i++) await turn();
    assert.equal(tcp.accepted.length, 0, 'no TCP connection before the delay');
    const stream = fakeStream();
    utp.calls[0]!.resolve(stream);
    const result = await dialed;
    assert.equal(result.transport, 'utp');
    assert.equal(result.socket, stream);
    assert.equal(result.reads, undefined);
    clock.advance(60_000);
    await turn();
    assert.equal(tcp.accepted.length, 0, 'no TCP connection');
    assert.equal(clock.pendingTimers, 0);
  });

  test('uTP silent past the delay: TCP starts, connects and wins; the uTP attempt is abandoned', async () => {
    const clock = new FakeClock();
    const tcp = await tcpServer();
    const utp = scriptedUtp();
    const dialed = dialTransport(
      { host: '127.0.0.1', port: tcp.port },
      { utp: utp.dial, clock, tcpDelayMs: 1000 },
    );
    await turn();
    assert.equal(tcp.accepted.length, 0, 'TCP waits for the delay');
    clock.advance(1000);
    const result = await dialed;
    cleanup.push(() => result.socket.destroy());
    assert.equal(result.transport, 'tcp');
    assert.ok(result.reads !== undefined, 'TCP reads through the shared read buffer');
    assert.equal(utp.calls[0]!.signal.aborted, true, 'uTP dial abandoned');
  });

  test('a uTP failure before the delay starts TCP at once', async () => {
    const clock = new FakeClock();
    const tcp = await tcpServer();
    const utp = scriptedUtp();
    const dialed = dialTransport(
      { host: '127.0.0.1', port: tcp.port },
      { utp: utp.dial, clock, tcpDelayMs: 1000 },
    );
    utp.calls[0]!.reject(new Error('reset'));
    const result = await dialed; // the clock never moved
    cleanup.push(() => result.socket.destroy());
    assert.equal(result.transport, 'tcp');
  });

  test('an address remembered as TCP-only is dialled over TCP without trying uTP', async () => {
    const tcp = await tcpServer();
    const utp = scriptedUtp();
    const result = await dialTransport(
      { host: '127.0.0.1', port: tcp.port },
      { utp: utp.dial, remembered: 'tcp', clock: new FakeClock() },
    );
    cleanup.push(() => result.socket.destroy());
    assert.equal(result.transport, 'tcp');
    assert.equal(utp.calls.length, 0);
  });

  test('TCP refused after the delay ends the attempt at once: uTP is not waited out', async () => {
    const clock = new FakeClock();
    const port = await closedPort();
    const utp = scriptedUtp();
    const dialed = dialTransport(
      { host: '127.0.0.1', port },
      { utp: utp.dial, clock, tcpDelayMs: 1000, timeoutMs: 5000 },
    );
    clock.advance(1000); // the clock never reaches the uTP deadline
    await assert.rejects(dialed, (error: unknown) => {
      assert.ok(error instanceof LodestoneError);
      assert.equal(error.code, 'LODESTONE_ERR_IO');
      return true;
    });
    assert.equal(utp.calls[0]!.signal.aborted, true, 'uTP abandoned');
    assert.equal(clock.pendingTimers, 0);
  });

  test('uTP reaching its deadline after TCP started does not fail the attempt: TCP decides', async () => {
    const clock = new FakeClock();
    const tcp = await tcpServer();
    const utp = scriptedUtp();
    const dialed = dialTransport(
      { host: '127.0.0.1', port: tcp.port },
      { utp: utp.dial, clock, tcpDelayMs: 1000, timeoutMs: 5000 },
    );
    clock.advance(5000); // TCP starts at 1000, uTP is aborted at 5000
    const result = await dialed;
    cleanup.push(() => result.socket.destroy());
    assert.equal(result.transport, 'tcp');
  });

  test('a uTP stream connecting after TCP won is destroyed, not leaked', async () => {
    const clock = new FakeClock();
    const tcp = await tcpServer();
    let connectLate: ((stream: Duplex) => void) | undefined;
    // A dialler that ignores the abort and connects anyway, later.
    const dial: UtpDialer = () => new Promise((resolve) => (connectLate = resolve));
    const dialed = dialTransport(
      { host: '127.0.0.1', port: tcp.port },
      { utp: dial, clock, tcpDelayMs: 1000 },
    );
    clock.advance(1000);
    const result = await dialed;
    cleanup.push(() => result.socket.destroy());
    assert.equal(result.transport, 'tcp');
    const late = fakeStream();
    connectLate!(late);
    await turn();
    assert.equal(late.destroyed, true, 'the loser is closed');
  });

  test('without a uTP dialler it is plain TCP', async () => {
    const tcp = await tcpServer();
    const result = await dialTransport({ host: '127.0.0.1', port: tcp.port });
    cleanup.push(() => result.socket.destroy());
    assert.equal(result.transport, 'tcp');
  });
});
