import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PEER_ENTRY_BYTES, PeerStore, type PeerStoreOptions } from '../../../src/dht/peer-store.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { seededRandom } from '../../helpers/seeded-random.js';

const hash = (n: number): Uint8Array => new Uint8Array(20).fill(n);
const MINUTE = 60_000;

function store(options: Partial<PeerStoreOptions> = {}): { clock: FakeClock; peers: PeerStore } {
  const clock = new FakeClock();
  return { clock, peers: new PeerStore({ clock, random: seededRandom(7), ...options }) };
}

describe('announced peer store', () => {
  test('stores per info-hash and hands them out', () => {
    const { peers } = store();
    peers.add(hash(1), { host: '192.0.2.1', port: 6881 });
    peers.add(hash(1), { host: '2001:db8::1', port: 6882 });
    peers.add(hash(2), { host: '192.0.2.2', port: 6881 });
    assert.equal(peers.count(hash(1)), 2);
    assert.equal(peers.count(), 3);
    assert.deepEqual(peers.get(hash(1), 10, 4), [{ host: '192.0.2.1', port: 6881 }]);
    assert.deepEqual(peers.get(hash(1), 10, 6), [{ host: '2001:db8::1', port: 6882 }]);
    assert.deepEqual(peers.get(hash(3), 10), []);
  });

  test('an entry lives 30 minutes; a re-announce refreshes it', () => {
    const { clock, peers } = store();
    peers.add(hash(1), { host: '192.0.2.1', port: 1 });
    peers.add(hash(1), { host: '192.0.2.2', port: 1 });
    clock.advance(20 * MINUTE);
    peers.add(hash(1), { host: '192.0.2.1', port: 1 });
    assert.equal(peers.count(hash(1)), 2, 'a re-announce does not duplicate');
    clock.advance(10 * MINUTE);
    assert.deepEqual(peers.get(hash(1), 10), [{ host: '192.0.2.1', port: 1 }]);
    clock.advance(20 * MINUTE);
    assert.equal(peers.count(), 0);
    assert.equal(peers.torrentCount(), 0);
    assert.equal(peers.memoryBytes(), 0);
  });

  test('bounded per info-hash: the least recently announced goes first', () => {
    const { clock, peers } = store({ maxPeersPerTorrent: 3, maxPeersPerHost: 10 });
    for (let i = 1; i <= 5; i++) {
      peers.add(hash(1), { host: `192.0.2.${i}`, port: 1 });
      clock.advance(1);
    }
    const hosts = peers
      .get(hash(1), 10)
      .map((p) => p.host)
      .sort();
    assert.deepEqual(hosts, ['192.0.2.3', '192.0.2.4', '192.0.2.5']);
  });

  test('one IP cannot push the others out by announcing many ports', () => {
    const { peers } = store({ maxPeersPerTorrent: 10, maxPeersPerHost: 2 });
    peers.add(hash(1), { host: '192.0.2.1', port: 1 });
    for (let port = 1; port <= 100; port++) peers.add(hash(1), { host: '198.51.100.9', port });
    assert.equal(peers.count(hash(1)), 3);
    assert.deepEqual(
      peers
        .get(hash(1), 10, 4)
        .map((p) => p.port)
        .sort((a, b) => a - b),
      [1, 99, 100],
    );
  });

  test('bounded in info-hashes and in bytes', () => {
    const few = store({ maxTorrents: 3 }).peers;
    for (let i = 0; i < 10; i++) few.add(hash(i), { host: '192.0.2.1', port: 1 });
    assert.equal(few.torrentCount(), 3);
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 6].map((i) => few.count(hash(i))),
      [0, 0, 0, 0, 0, 0, 0],
    );
    assert.equal(few.count(hash(9)), 1);

    const small = store({
      maxBytes: 100 * PEER_ENTRY_BYTES,
      maxPeersPerHost: 1000,
      maxPeersPerTorrent: 1000,
    }).peers;
    for (let i = 0; i < 10_000; i++) small.add(hash(i % 7), { host: `10.0.${i >> 8}.${i & 255}`, port: 1 });
    assert.ok(small.memoryBytes() <= 100 * PEER_ENTRY_BYTES);
    assert.ok(small.count() >= 90, `kept ${small.count()}`);
  });

  test('get returns a random sample of at most max, without duplicates', () => {
    const { peers } = store();
    for (let i = 0; i < 200; i++) peers.add(hash(1), { host: `10.0.0.${i}`, port: 1 + i });
    const first = peers.get(hash(1), 50);
    const second = peers.get(hash(1), 50);
    assert.equal(first.length, 50);
    assert.equal(new Set(first.map((p) => p.host)).size, 50);
    assert.notDeepEqual(first, second, 'two samples differ');
    assert.notDeepEqual(
      first.map((p) => p.host),
      Array.from({ length: 50 }, (_, i) => `10.0.0.${i}`),
      'not the oldest 50',
    );
  });

  test('addresses that are not literal IPs or have bad ports are ignored', () => {
    const { peers } = store();
    peers.add(hash(1), { host: 'example.com', port: 1 });
    peers.add(hash(1), { host: '192.0.2.1', port: 0 });
    peers.add(hash(1), { host: '192.0.2.1', port: 70000 });
    assert.equal(peers.count(), 0);
  });
});
