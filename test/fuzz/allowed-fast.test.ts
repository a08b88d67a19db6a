/**
 * Properties of BEP 6's canonical allowed-fast set (src/policy/allowed-fast.ts) over random
 * addresses, info-hashes, piece counts and sizes: min(k, pieces) distinct pieces in range, the
 * same for every address of a /24, and a prefix of any longer set (the SHA-1 chain only grows).
 * And FastExtension fed random BEP 6 messages: no throw, bounded state.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { PeerConnection } from '../../src/peer/peer-connection.js';
import { allowedFastSet } from '../../src/policy/allowed-fast.js';
import { FastExtension, MAX_ALLOWED_FAST_IN } from '../../src/session/fast-extension.js';
import { PeerState } from '../../src/session/peer-state.js';
import { downloaderHarness, FakeDownloaderConnection } from '../unit/session/fixtures.js';

const numRuns = Number(process.env.FUZZ_RUNS ?? 1000);

const ipv4 = fc.uint8Array({ minLength: 4, maxLength: 4 });
const infoHash = fc.uint8Array({ minLength: 20, maxLength: 20 });

test('allowedFastSet: min(k, pieces) distinct pieces in range, /24-invariant, prefix-stable', () => {
  fc.assert(
    fc.property(
      ipv4,
      fc.integer({ min: 0, max: 255 }),
      infoHash,
      fc.integer({ min: 0, max: 5000 }),
      fc.integer({ min: 0, max: 40 }),
      (ip, lastByte, hash, pieces, k) => {
        const set = allowedFastSet(ip, hash, pieces, k);
        assert.equal(set.length, Math.min(k, pieces));
        assert.equal(new Set(set).size, set.length, 'distinct');
        for (const index of set) assert.ok(Number.isInteger(index) && index >= 0 && index < pieces);
        const neighbour = Uint8Array.from([ip[0]!, ip[1]!, ip[2]!, lastByte]);
        assert.deepEqual(allowedFastSet(neighbour, hash, pieces, k), set, 'same /24, same set');
        assert.deepEqual(allowedFastSet(ip, hash, pieces, k + 3).slice(0, set.length), set, 'a prefix');
      },
    ),
    { numRuns },
  );
});

test('allowedFastSet: any other address length gives no set, never a throw', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 32 }),
      infoHash,
      fc.integer({ min: 1, max: 100 }),
      (ip, hash, pieces) => {
        const set = allowedFastSet(ip, hash, pieces, 10);
        if (ip.length !== 4 && ip.length !== 16) assert.deepEqual(set, []);
      },
    ),
    { numRuns },
  );
});

test('FastExtension: any sequence of BEP 6 messages never throws, and what it keeps stays bounded', () => {
  const pieceCount = 12;
  const index = fc.integer({ min: 0, max: pieceCount + 2 });
  const message = fc.oneof(
    fc.constant({ type: 'have-all' as const }),
    fc.constant({ type: 'have-none' as const }),
    fc.record({ type: fc.constant('allowed-fast' as const), index }),
    fc.record({ type: fc.constant('suggest' as const), index }),
    fc.record({
      type: fc.constant('reject' as const),
      index,
      begin: fc.oneof(fc.constant(0), fc.constant(16_384), fc.nat()),
      length: fc.oneof(fc.constant(16_384), fc.nat()),
    }),
  );
  fc.assert(
    fc.property(
      fc.boolean(),
      fc.boolean(),
      fc.array(message, { maxLength: 200 }),
      (isFast, choking, messages) => {
        const { downloader, meta, peers } = downloaderHarness(pieceCount, 32_768);
        const connection = new FakeDownloaderConnection('p', 0, '10.1.2.3');
        connection.peerChoking = choking;
        const peer = new PeerState(connection as unknown as PeerConnection, pieceCount, () => 0);
        peer.fast = isFast;
        peers.set('p', peer);
        const extension = new FastExtension(
          { ...meta, infoHash: Buffer.alloc(20, 1) },
          downloader,
          (p, _r, severe) => {
            if (severe) p.connection.close();
          },
        );
        for (const m of messages) {
          if (connection.closed) break;
          extension.onMessage(peer, m);
        }
        assert.ok(peer.allowedFastIn.size <= MAX_ALLOWED_FAST_IN);
        assert.ok(peer.allowedFastOut.size <= 10);
        for (const i of peer.allowedFastIn) assert.ok(i < pieceCount);
        if (!isFast && messages.length > 0) assert.equal(connection.closed, true, 'dropped at its first');
      },
    ),
    { numRuns: Math.max(50, numRuns / 10) },
  );
});
