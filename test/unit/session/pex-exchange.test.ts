import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PeerAddress } from '../../../src/address.js';
import { WireError } from '../../../src/errors.js';
import type { PeerState } from '../../../src/session/peer-state.js';
import { PexExchange, type PexHost } from '../../../src/session/pex-exchange.js';
import { PEX_MIN_RECEIVE_GAP_MS } from '../../../src/session/pex-state.js';
import type { Message } from '../../../src/wire/types.js';
import { decodePexMessage, encodePexMessage, PEX_FLAGS } from '../../../src/wire/ut-pex.js';
import { FakeClock } from '../../helpers/fake-clock.js';

interface FakePeer {
  key: string;
  isSeed: boolean;
  sent: Message[];
  connection: {
    address: PeerAddress;
    direction: 'inbound' | 'outbound';
    transport: 'tcp' | 'utp';
    encryption: 'plain' | 'rc4';
    closed: boolean;
    remoteHandshake: object | undefined;
    send(message: Message): void;
  };
}

function fakePeer(host: string, port: number, direction: 'inbound' | 'outbound' = 'outbound'): FakePeer {
  const sent: Message[] = [];
  return {
    key: `${host}:${port}`,
    isSeed: false,
    sent,
    connection: {
      address: { host, port },
      direction,
      transport: 'tcp',
      encryption: 'plain',
      closed: false,
      remoteHandshake: {},
      send: (message) => sent.push(message),
    },
  };
}

function setup(options: { private?: boolean; port?: number } = {}) {
  const clock = new FakeClock();
  const peers = new Map<string, PeerState>();
  const book: { address: PeerAddress; from: string }[] = [];
  const events: { from: string; addresses: PeerAddress[] }[] = [];
  const host: PexHost = {
    peers,
    private: options.private ?? false,
    port: options.port ?? 6881,
    now: clock.now,
    learn: (address, from) => {
      if (book.some((e) => e.address.host === address.host && e.address.port === address.port)) return false;
      book.push({ address, from });
      return true;
    },
    learned: (from, addresses) => events.push({ from, addresses }),
  };
  const pex = new PexExchange(host);
  const add = (peer: FakePeer): PeerState => {
    const state = peer as unknown as PeerState;
    peers.set(peer.key, state);
    return state;
  };
  return { clock, pex, book, events, add };
}

const handshake = (m: [string, number][], extra: { p?: number; yourip?: Uint8Array } = {}) => ({
  m: new Map(m),
  ...extra,
});
const pexPayload = (addresses: PeerAddress[]) =>
  encodePexMessage({ added: addresses.map((address) => ({ address, flags: 0 })), dropped: [] });

describe('PexExchange: BEP 11 for one session', () => {
  test('advertises ut_pex in our handshake, except for a private torrent', () => {
    assert.deepEqual(setup().pex.handshakeEntries(), [['ut_pex', 1]]);
    assert.deepEqual(setup({ private: true }).pex.handshakeEntries(), []);
  });

  test('addresses a peer sends go to the book with the peer’s IP as origin; events say which were new', () => {
    const { pex, book, events, add } = setup();
    const a = add(fakePeer('127.0.0.2', 7000));
    pex.onExtensionHandshake(a, handshake([['ut_pex', 5]]));
    pex.onMessage(a, pexPayload([{ host: '127.0.0.3', port: 7001 }]));
    assert.deepEqual(book, [{ address: { host: '127.0.0.3', port: 7001 }, from: '127.0.0.2' }]);
    assert.equal(pex.learnedTotal, 1);
    assert.deepEqual(events, [{ from: '127.0.0.2:7000', addresses: [{ host: '127.0.0.3', port: 7001 }] }]);
  });

  test('a private torrent ignores PEX messages; so does any torrent from a peer that never offered ut_pex', () => {
    const priv = setup({ private: true });
    const a = priv.add(fakePeer('127.0.0.2', 7000));
    priv.pex.onExtensionHandshake(a, handshake([['ut_pex', 5]]));
    priv.pex.onMessage(a, pexPayload([{ host: '127.0.0.3', port: 7001 }]));
    assert.deepEqual(priv.book, []);

    const open = setup();
    const b = open.add(fakePeer('127.0.0.2', 7000));
    open.pex.onExtensionHandshake(b, handshake([['ut_metadata', 3]]));
    open.pex.onMessage(b, pexPayload([{ host: '127.0.0.3', port: 7001 }]));
    assert.deepEqual(open.book, []);
  });

  test('our own address, as the peer reports it (yourip) with our listen port, is never learnt', () => {
    const { pex, book, add } = setup({ port: 6881 });
    const a = add(fakePeer('127.0.0.2', 7000));
    pex.onExtensionHandshake(a, handshake([['ut_pex', 5]], { yourip: Uint8Array.of(127, 0, 0, 9) }));
    pex.onMessage(
      a,
      pexPayload([
        { host: '127.0.0.9', port: 6881 },
        { host: '127.0.0.9', port: 6882 },
      ]),
    );
    assert.deepEqual(
      book.map((e) => e.address),
      [{ host: '127.0.0.9', port: 6882 }],
    );
  });

  test('a flood is throttled and malformed messages throw WireError (the handler strikes)', () => {
    const { clock, pex, book, add } = setup();
    const a = add(fakePeer('127.0.0.2', 7000));
    pex.onExtensionHandshake(a, handshake([['ut_pex', 5]]));
    for (let i = 0; i < 50; i++) pex.onMessage(a, pexPayload([{ host: '127.0.1.1', port: 1000 + i }]));
    assert.equal(book.length, 1);
    clock.advance(PEX_MIN_RECEIVE_GAP_MS);
    pex.onMessage(a, pexPayload([{ host: '127.0.1.1', port: 2000 }]));
    assert.equal(book.length, 2);
    assert.throws(() => pex.onMessage(a, Buffer.from('garbage')), WireError);
  });

  test('tick: each peer who speaks ut_pex gets our other peers with their flags, under its own id', () => {
    const { pex, add } = setup();
    const a = fakePeer('127.0.0.2', 7000);
    const b = fakePeer('127.0.0.3', 51000, 'inbound');
    const c = fakePeer('127.0.0.4', 7002);
    c.isSeed = true;
    c.connection.encryption = 'rc4';
    const [sa, sb, sc] = [add(a), add(b), add(c)];
    pex.onExtensionHandshake(sa, handshake([['ut_pex', 5]]));
    pex.onExtensionHandshake(sb, handshake([], { p: 6999 }));
    pex.onExtensionHandshake(sc, handshake([['ut_pex', 0]]));
    pex.tick();
    assert.equal(b.sent.length + c.sent.length, 0, 'only peers that speak ut_pex are sent it');
    assert.equal(a.sent.length, 1);
    const sent = a.sent[0]!;
    assert.equal(sent.type, 'extended');
    assert.equal(sent.type === 'extended' && sent.id, 5);
    const message = decodePexMessage(sent.type === 'extended' ? sent.payload : new Uint8Array());
    assert.deepEqual(message.added, [
      { address: { host: '127.0.0.3', port: 6999 }, flags: 0 },
      {
        address: { host: '127.0.0.4', port: 7002 },
        flags: PEX_FLAGS.seed | PEX_FLAGS.encryption | PEX_FLAGS.reachable,
      },
    ]);
    pex.tick();
    assert.equal(a.sent.length, 1, 'not again within the minute');
  });

  test('a private torrent sends no PEX', () => {
    const { pex, add } = setup({ private: true });
    const a = fakePeer('127.0.0.2', 7000);
    const sa = add(a);
    add(fakePeer('127.0.0.3', 7001));
    pex.onExtensionHandshake(sa, handshake([['ut_pex', 5]]));
    pex.tick();
    assert.equal(a.sent.length, 0);
  });
});
