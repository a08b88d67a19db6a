/**
 * ST_RESET between socket managers: a process restarted on the same port gets
 * the packets of connections it no longer has and answers them with ST_RESET
 * (a keep-alive too, not only data), the peer matches that reset by either
 * connection id and closes at once; a RESET is never answered. Real loopback
 * UDP; every manager on a fake clock, so no timer fires unless the test moves it.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { afterEach, describe, test } from 'node:test';
import { decodeUtpPacket, encodeUtpPacket } from '../../../../src/net/utp/packet.js';
import type { UtpError } from '../../../../src/net/utp/utp-error.js';
import type { UtpStream } from '../../../../src/net/utp/utp-stream.js';
import { FakeClock } from '../../../helpers/fake-clock.js';
import { utpEndpoint } from '../../../helpers/utp-endpoint.js';

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const done of cleanup.splice(0).reverse()) done();
});

type Endpoint = Awaited<ReturnType<typeof utpEndpoint>>;

async function endpoint(clock: FakeClock, port = 0): Promise<Endpoint> {
  const e = await utpEndpoint('127.0.0.1', { clock }, port);
  cleanup.push(() => e.close());
  return e;
}

/** Fails (by assertion) if `promise` has not settled within `ms`: a guard, not a timing test. */
async function within<T>(promise: Promise<T>, what: string, ms = 5000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new assert.AssertionError({ message: `no ${what}` })), ms);
  });
  try {
    return await Promise.race([promise, guard]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * b dials a and they exchange a message each way, so nothing is left in flight from b
 * (a's answer acknowledged b's message); returns b's stream.
 */
async function dial(a: Endpoint, b: Endpoint): Promise<UtpStream> {
  const accepted = once(a.utp, 'connection') as Promise<[UtpStream]>;
  const stream = await b.utp.connect('127.0.0.1', a.port);
  stream.write(Buffer.from('hello'));
  const [remote] = await within(accepted, 'accepted connection');
  const answered = once(stream, 'data');
  remote.write(Buffer.from('hi'));
  await within(answered, "a's answer");
  return stream;
}

function closeError(stream: UtpStream): Promise<UtpError | undefined> {
  return new Promise((resolve) => {
    let error: UtpError | undefined;
    stream.on('error', (e) => {
      error = e as UtpError;
    });
    stream.on('close', () => resolve(error));
  });
}

describe('uTP socket manager: ST_RESET for connections it does not have', () => {
  for (const what of ['data', 'a keep-alive'] as const) {
    test(`a restarted peer on the same port resets the old connection on ${what}; closed at once`, async () => {
      const clockA = new FakeClock();
      const clockB = new FakeClock();
      const a = await endpoint(clockA);
      const b = await endpoint(clockB);
      const stream = await dial(a, b);
      const closed = closeError(stream);
      // a is killed: its socket goes, no reset sent; a new process binds the same port.
      a.udp.close();
      const port = a.port;
      const a2 = await endpoint(new FakeClock(), port);
      if (what === 'data') stream.write(Buffer.from('anyone there?'));
      else clockB.advance(29_000); // b's keep-alive (an ST_STATE): it expects no answer
      const error = await within(closed, 'close of the old connection');
      assert.equal(error?.reason, 'reset');
      assert.match(error!.message, /ST_RESET/);
      assert.equal(b.utp.size, 0, 'b forgot the connection');
      assert.ok(a2.utp.dropped >= 1);
    });
  }

  test('a half-open connection reset by its dialler closes quietly (no error event nobody could hear)', async () => {
    const server = await endpoint(new FakeClock());
    const raw = createSocket('udp4');
    cleanup.push(() => raw.close());
    await new Promise<void>((resolve) => raw.bind(0, '127.0.0.1', resolve));
    const header = { timestamp: 0, timestampDiff: 0, windowSize: 65536, payload: new Uint8Array(0) };
    const answer = once(raw, 'message') as Promise<[Buffer]>;
    raw.send(
      encodeUtpPacket({ ...header, type: 'syn', connectionId: 900, seq: 1, ack: 0 }),
      server.port,
      '127.0.0.1',
    );
    const [state] = await within(answer, 'the ST_STATE answer');
    const decoded = decodeUtpPacket(state);
    assert.ok(decoded.ok && decoded.packet.type === 'state' && decoded.packet.connectionId === 900);
    assert.equal(server.utp.halfOpen, 1);
    // The dialler (a Lodestone that no longer knows it) echoes the id it got: the server's send id.
    raw.send(
      encodeUtpPacket({ ...header, type: 'reset', connectionId: 900, seq: 5, ack: decoded.packet.seq }),
      server.port,
      '127.0.0.1',
    );
    for (let turn = 0; turn < 200 && server.utp.size > 0; turn++) await new Promise((r) => setImmediate(r));
    assert.equal(server.utp.size, 0, 'the reset closed the half-open connection');
    assert.equal(server.utp.halfOpen, 0);
  });

  test('a RESET is never answered; the reset budget is per tick', async () => {
    const clock = new FakeClock();
    const a = await endpoint(clock);
    a.utp.close(); // no connection, no tick: only the unknown-connection path
    const a2 = await utpEndpoint('127.0.0.1', { clock, maxResetsPerTick: 2, tickMs: 50 });
    cleanup.push(() => a2.close());
    const raw = createSocket('udp4');
    cleanup.push(() => raw.close());
    await new Promise<void>((resolve) => raw.bind(0, '127.0.0.1', resolve));
    const replies: number[] = [];
    raw.on('message', (datagram) => {
      const decoded = decodeUtpPacket(datagram);
      if (decoded.ok && decoded.packet.type === 'reset') replies.push(decoded.packet.ack);
    });
    const packet = (type: 'reset' | 'state', seq: number): Buffer =>
      encodeUtpPacket({
        type,
        connectionId: 4242,
        timestamp: 0,
        timestampDiff: 0,
        windowSize: 0,
        seq,
        ack: 1,
        payload: new Uint8Array(0),
      });
    const send = (datagram: Buffer): Promise<void> =>
      new Promise((resolve) => raw.send(datagram, a2.port, '127.0.0.1', () => resolve()));
    await send(packet('reset', 1));
    for (let seq = 2; seq <= 5; seq++) await send(packet('state', seq));
    // Loopback keeps order: the first answer is to the first state, so the reset got none.
    while (replies.length < 2) await within(once(raw, 'message'), 'reset answers');
    assert.deepEqual(replies.slice(0, 2), [2, 3]);
    // Two per tick: seq 4 and 5 went unanswered. The next tick renews the budget.
    clock.advance(50);
    await send(packet('state', 6));
    while (replies.length < 3) await within(once(raw, 'message'), 'a reset after the tick');
    assert.deepEqual(replies, [2, 3, 6]);
    assert.equal(a2.utp.dropped, 6);
  });
});
