import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { formatAddress } from '../../src/address.js';
import { encode } from '../../src/bencode/index.js';
import { TrackerError } from '../../src/errors.js';
import { MAX_PEERS_PER_ANSWER, parseCompactPeers } from '../../src/tracker/announce-common.js';
import { parseHttpAnnounceResponse } from '../../src/tracker/http-tracker.js';
import type { AnnounceResponse } from '../../src/tracker/types.js';
import { decodeUdpResponse } from '../../src/tracker/udp-tracker.js';

const numRuns = Number(process.env.FUZZ_RUNS ?? 1000);

/** Either a value or a TrackerError; anything else thrown is a bug. */
function valueOrTrackerError<T>(run: () => T): T | undefined {
  try {
    return run();
  } catch (error) {
    assert.ok(error instanceof TrackerError, `unexpected ${String(error)}`);
    return undefined;
  }
}

function checkResponse(response: AnnounceResponse | undefined): void {
  if (!response) return;
  assert.ok(response.interval >= 60 && response.interval <= 86_400);
  // Issue 15: distinct peers, never more than one answer may bring.
  assert.ok(response.peers.length <= MAX_PEERS_PER_ANSWER);
  assert.equal(new Set(response.peers.map(formatAddress)).size, response.peers.length);
  for (const peer of response.peers) {
    assert.ok(Number.isInteger(peer.port) && peer.port >= 1 && peer.port <= 65535);
    assert.equal(typeof peer.host, 'string');
  }
}

/** Bytes that look like tracker answers often enough to reach deep code paths. */
const trackerLikeBody = fc
  .record(
    {
      interval: fc.oneof(fc.integer(), fc.string()),
      'min interval': fc.integer(),
      complete: fc.integer(),
      incomplete: fc.integer(),
      peers: fc.oneof(
        fc.uint8Array({ maxLength: 64 }),
        fc.array(
          fc.record(
            { ip: fc.oneof(fc.ipV4(), fc.ipV6(), fc.string()), port: fc.integer() },
            { requiredKeys: [] },
          ),
        ),
      ),
      peers6: fc.uint8Array({ maxLength: 80 }),
      'failure reason': fc.string(),
      'warning message': fc.string(),
      'tracker id': fc.uint8Array({ maxLength: 300 }),
    },
    { requiredKeys: [] },
  )
  .map((dict) => encode(dict));

describe('tracker parsers never throw anything but TrackerError', () => {
  test('parseHttpAnnounceResponse on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        checkResponse(valueOrTrackerError(() => parseHttpAnnounceResponse(bytes)));
      }),
      { numRuns },
    );
  });

  test('parseHttpAnnounceResponse on tracker-like dictionaries, possibly truncated', () => {
    fc.assert(
      fc.property(trackerLikeBody, fc.nat(), fc.boolean(), (body, cut, truncate) => {
        const bytes = truncate ? body.subarray(0, cut % (body.length + 1)) : body;
        checkResponse(valueOrTrackerError(() => parseHttpAnnounceResponse(bytes)));
      }),
      { numRuns },
    );
  });

  test('parseCompactPeers with a limit keeps the first distinct peers, in order', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }),
        fc.constantFrom(4 as const, 6 as const),
        fc.integer({ min: 0, max: 40 }),
        (bytes, family, limit) => {
          const all = parseCompactPeers(bytes, family, Number.POSITIVE_INFINITY);
          assert.equal(new Set(all.map(formatAddress)).size, all.length);
          assert.deepEqual(parseCompactPeers(bytes, family, limit), all.slice(0, limit));
        },
      ),
      { numRuns },
    );
  });

  test('decodeUdpResponse on arbitrary bytes, both families', () => {
    const head = fc.constantFrom(0, 1, 2, 3, 4).map((action) => Buffer.from([0, 0, 0, action]));
    fc.assert(
      fc.property(head, fc.uint8Array({ maxLength: 200 }), fc.boolean(), (action, rest, ipv6) => {
        const bytes = Buffer.concat([action, rest]);
        const response = valueOrTrackerError(() => decodeUdpResponse(bytes, { ipv6 }));
        if (response?.action === 'announce') {
          for (const peer of response.peers) assert.ok(peer.port >= 1 && peer.port <= 65535);
        }
        valueOrTrackerError(() => decodeUdpResponse(rest, { ipv6 }));
      }),
      { numRuns },
    );
  });
});
