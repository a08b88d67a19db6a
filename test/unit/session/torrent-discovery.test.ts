import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, test } from 'node:test';
import type { PeerAddress } from '../../../src/address.js';
import type { TorrentMetadata } from '../../../src/metainfo/types.js';
import type { DhtTrackHooks, SessionDht } from '../../../src/session/dht-torrent.js';
import type { PeerState } from '../../../src/session/peer-state.js';
import type { SessionStats, TorrentSessionEvents } from '../../../src/session/session-types.js';
import { TorrentDiscovery } from '../../../src/session/torrent-discovery.js';

/** A DHT that records what the torrent tracks, so a test can play the lookups' answers. */
class FakeDht implements SessionDht {
  readonly port = 6881;
  readonly tracked: { infoHash: Uint8Array; hooks: DhtTrackHooks }[] = [];
  stopped = 0;
  nodeHeard(): void {}
  track(infoHash: Uint8Array, hooks: DhtTrackHooks): () => void {
    this.tracked.push({ infoHash, hooks });
    return () => {
      this.stopped++;
    };
  }
}

function discoveryOf(options: { private?: boolean; done?: boolean }) {
  const meta = {
    infoHash: Buffer.alloc(20, 7),
    private: options.private ?? false,
    announceTiers: [],
  } as unknown as TorrentMetadata;
  const dht = new FakeDht();
  const events = new EventEmitter<TorrentSessionEvents>();
  const learned: TorrentSessionEvents['peers-learned'][0][] = [];
  events.on('peers-learned', (event) => learned.push(event));
  let dials = 0;
  const discovery = new TorrentDiscovery({
    meta,
    options: { peerId: Buffer.alloc(20, 1), port: 6881, dht },
    peers: new Map<string, PeerState>(),
    events,
    guard: (fn) => fn,
    dialSoon: () => {
      dials++;
    },
    wantsPeers: () => true,
    seeding: () => options.done ?? false,
    stats: () => ({}) as SessionStats,
  });
  return { discovery, dht, learned, dials: () => dials };
}

const address = (host: string, port = 6881): PeerAddress => ({ host, port });

describe('torrent discovery: the DHT feeds the address book', () => {
  test('peers a lookup finds go to the book once, are reported as learned, and are dialled soon', () => {
    const { discovery, dht, learned, dials } = discoveryOf({});
    discovery.start();
    assert.equal(dht.tracked.length, 1);
    const { hooks, infoHash } = dht.tracked[0]!;
    assert.deepEqual(Buffer.from(infoHash), Buffer.alloc(20, 7));
    assert.equal(hooks.announcePort, 6881);
    hooks.onPeers([address('127.0.0.2'), address('127.0.0.3')]);
    // A second lookup finding one known and one new address: only the new one is news.
    hooks.onPeers([address('127.0.0.3'), address('127.0.0.4')]);
    assert.deepEqual(learned, [
      { source: 'dht', from: 'dht', addresses: ['127.0.0.2:6881', '127.0.0.3:6881'] },
      { source: 'dht', from: 'dht', addresses: ['127.0.0.4:6881'] },
    ]);
    assert.equal(discovery.book.size, 3);
    assert.equal(dials(), 2);
  });

  test('a lookup that finds only known addresses says nothing and dials nothing', () => {
    const { discovery, dht, learned, dials } = discoveryOf({});
    discovery.start();
    const { hooks } = dht.tracked[0]!;
    hooks.onPeers([address('127.0.0.2')]);
    hooks.onPeers([address('127.0.0.2')]);
    hooks.onPeers([]);
    assert.equal(learned.length, 1);
    assert.equal(dials(), 1);
  });

  test('a private torrent never uses the DHT (BEP 27)', () => {
    const { discovery, dht } = discoveryOf({ private: true });
    discovery.start();
    assert.equal(discovery.dht, undefined);
    assert.equal(dht.tracked.length, 0);
  });

  test('halt stops the lookups; seeding is read from the session', () => {
    const { discovery, dht } = discoveryOf({ done: true });
    discovery.start();
    assert.equal(dht.tracked[0]!.hooks.seeding?.(), true);
    discovery.halt();
    assert.equal(dht.stopped, 1);
  });
});
