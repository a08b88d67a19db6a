import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PeerAddress } from '../../../src/address.js';
import {
  PEX_MAX_ADDED,
  PEX_MAX_LEARNED_PER_PEER,
  PEX_MIN_RECEIVE_GAP_MS,
  PEX_SEND_INTERVAL_MS,
  type PexCandidate,
  PexInbox,
  PexOutbox,
  pexCandidate,
} from '../../../src/session/pex-state.js';
import { PEX_FLAGS, type PexMessage } from '../../../src/wire/ut-pex.js';
import { FakeClock } from '../../helpers/fake-clock.js';

const peer = (i: number, flags = 0): PexCandidate => ({
  key: `127.0.${i >> 8}.${i & 0xff}:7000`,
  address: { host: `127.0.${i >> 8}.${i & 0xff}`, port: 7000 },
  flags,
});
const hosts = (addresses: readonly PeerAddress[]) => addresses.map((a) => `${a.host}:${a.port}`);
const notSelf = () => false;

describe('pexCandidate: what we advertise of a connection', () => {
  const base = {
    key: '10.0.0.1:5555',
    address: { host: '10.0.0.1', port: 5555 },
    seed: false,
    transport: 'tcp' as const,
    encryption: 'plain',
  };

  test('a peer we dialled: its address, reachable', () => {
    const c = pexCandidate({ ...base, direction: 'outbound', listenPort: 9999 });
    assert.deepEqual(c.address, { host: '10.0.0.1', port: 5555 });
    assert.equal(c.flags, PEX_FLAGS.reachable);
  });

  test('a peer that dialled us: only with the listen port it told, and not marked reachable', () => {
    assert.equal(pexCandidate({ ...base, direction: 'inbound', listenPort: undefined }).address, undefined);
    const c = pexCandidate({ ...base, direction: 'inbound', listenPort: 6881 });
    assert.deepEqual(c.address, { host: '10.0.0.1', port: 6881 });
    assert.equal(c.flags, 0);
  });

  test('seed, uTP and RC4 flags as the connection shows them', () => {
    const c = pexCandidate({
      ...base,
      direction: 'inbound',
      listenPort: 1,
      seed: true,
      transport: 'utp',
      encryption: 'rc4',
    });
    assert.equal(c.flags, PEX_FLAGS.seed | PEX_FLAGS.utp | PEX_FLAGS.encryption);
  });
});

describe('PexOutbox: what one peer is told, and when', () => {
  test('the first message goes at once with our other peers, never the recipient itself or unknown addresses', () => {
    const clock = new FakeClock();
    const outbox = new PexOutbox();
    const recipient = peer(1);
    const hidden: PexCandidate = { key: '127.0.0.9:1234', address: undefined, flags: 0 };
    const message = outbox.next(clock.now(), [recipient, peer(2, PEX_FLAGS.seed), hidden], recipient.key);
    assert.ok(message);
    assert.deepEqual(message.added, [{ address: peer(2).address, flags: PEX_FLAGS.seed }]);
    assert.deepEqual(message.dropped, []);
  });

  test('nothing to say: nothing sent, and the next message is not held back by it', () => {
    const clock = new FakeClock();
    const outbox = new PexOutbox();
    assert.equal(outbox.next(clock.now(), [peer(1)], peer(1).key), undefined);
    clock.advance(1000);
    assert.ok(
      outbox.next(clock.now(), [peer(1), peer(2)], peer(1).key),
      'sent as soon as there is a peer to tell',
    );
  });

  test('then at most one a minute, with the difference since the last', () => {
    const clock = new FakeClock();
    const outbox = new PexOutbox();
    outbox.next(clock.now(), [peer(2), peer(3)], 'x');
    clock.advance(PEX_SEND_INTERVAL_MS - 1);
    assert.equal(outbox.next(clock.now(), [peer(3), peer(4)], 'x'), undefined, 'not due yet');
    clock.advance(1);
    const diff = outbox.next(clock.now(), [peer(3), peer(4)], 'x');
    assert.ok(diff);
    assert.deepEqual(hosts(diff.added.map((p) => p.address)), ['127.0.0.4:7000']);
    assert.deepEqual(hosts(diff.dropped), ['127.0.0.2:7000']);
    clock.advance(PEX_SEND_INTERVAL_MS);
    assert.equal(outbox.next(clock.now(), [peer(3), peer(4)], 'x'), undefined, 'no change: nothing');
  });

  test('at most 50 added and 50 dropped a message; the rest follows a minute later', () => {
    const clock = new FakeClock();
    const outbox = new PexOutbox();
    const many = Array.from({ length: 120 }, (_, i) => peer(i + 10));
    const first = outbox.next(clock.now(), many, 'x');
    assert.equal(first?.added.length, PEX_MAX_ADDED);
    clock.advance(PEX_SEND_INTERVAL_MS);
    assert.equal(outbox.next(clock.now(), many, 'x')?.added.length, PEX_MAX_ADDED);
    clock.advance(PEX_SEND_INTERVAL_MS);
    assert.equal(outbox.next(clock.now(), many, 'x')?.added.length, 20);
    assert.equal(outbox.told, 120);
    clock.advance(PEX_SEND_INTERVAL_MS);
    const gone = outbox.next(clock.now(), [], 'x');
    assert.equal(gone?.dropped.length, 50);
    assert.equal(gone?.added.length, 0);
    assert.equal(outbox.told, 70);
  });
});

describe('PexInbox: what we take from one peer', () => {
  const message = (addresses: PeerAddress[]): PexMessage => ({
    added: addresses.map((address) => ({ address, flags: 0 })),
    dropped: [],
  });
  const loopback = (from: number, n: number) =>
    Array.from({ length: n }, (_, i) => ({
      host: `127.1.${(from + i) >> 8}.${(from + i) & 0xff}`,
      port: 6881,
    }));

  test('keeps dialable unicast addresses only, and never our own', () => {
    const inbox = new PexInbox();
    const self = { host: '127.0.0.5', port: 6881 };
    const taken = inbox.accept(
      0,
      message([
        { host: '127.0.0.2', port: 6881 },
        { host: '127.0.0.3', port: 0 },
        { host: '0.0.0.0', port: 1 },
        { host: '224.0.0.1', port: 1 },
        { host: '255.255.255.255', port: 1 },
        { host: 'ff02::1', port: 1 },
        { host: '::', port: 1 },
        self,
        { host: '127.0.0.2', port: 6881 },
      ]),
      (a) => a.host === self.host && a.port === self.port,
    );
    assert.deepEqual(taken, [{ host: '127.0.0.2', port: 6881 }]);
  });

  test('a message within 45 s of the last one taken is ignored whole', () => {
    const clock = new FakeClock();
    const inbox = new PexInbox();
    assert.equal((inbox.accept(clock.now(), message(loopback(0, 3)), notSelf) as PeerAddress[]).length, 3);
    clock.advance(PEX_MIN_RECEIVE_GAP_MS - 1);
    assert.equal(inbox.accept(clock.now(), message(loopback(10, 3)), notSelf), 'throttled');
    clock.advance(1);
    assert.equal((inbox.accept(clock.now(), message(loopback(10, 3)), notSelf) as PeerAddress[]).length, 3);
  });

  test('at most 200 distinct addresses from one peer in all; repeats do not count', () => {
    const clock = new FakeClock();
    const inbox = new PexInbox();
    let total = 0;
    for (let round = 0; round < 5; round++) {
      const taken = inbox.accept(clock.now(), message(loopback(round * 100, 100)), notSelf);
      assert.notEqual(taken, 'throttled');
      total += (taken as PeerAddress[]).length;
      clock.advance(PEX_MIN_RECEIVE_GAP_MS);
    }
    assert.equal(total, PEX_MAX_LEARNED_PER_PEER);
    assert.equal(inbox.learned, PEX_MAX_LEARNED_PER_PEER);

    const again = new PexInbox();
    again.accept(0, message(loopback(0, 100)), notSelf);
    const repeat = again.accept(PEX_MIN_RECEIVE_GAP_MS, message(loopback(0, 100)), notSelf);
    assert.deepEqual(repeat, []);
    assert.equal(again.learned, 100);
  });
});
