/**
 * The metadata phase's dial timeouts: until a first peer connects, uTP's head start before TCP is
 * RFC 8305's lowest recommended 100 ms instead of the download's 1 s (a magnet found through the DHT waits for its
 * first peer; a TCP-only peer would cost the whole head start). Pure: no dial.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FIRST_PEER_TCP_DELAY_MS, metadataDialTimeouts } from '../../../src/session/metadata-dial.js';
import { peerDialTimeouts } from '../../../src/session/peer-dialer.js';

test('no peer connected: uTP gets a 100 ms head start; once one is, the download’s numbers', () => {
  assert.equal(FIRST_PEER_TCP_DELAY_MS, 100);
  assert.equal(peerDialTimeouts({}, 1).tcpDelayMs, 1000, 'the download’s head start (the reference)');
  assert.deepEqual(metadataDialTimeouts(0, 1), { ...peerDialTimeouts({}, 1), tcpDelayMs: 100 });
  assert.deepEqual(metadataDialTimeouts(1, 1), peerDialTimeouts({}, 1));
  // Under dial pressure the download's head start is already short: never lengthened.
  for (const untried of [0, 10, 1000])
    assert.ok(metadataDialTimeouts(0, untried).tcpDelayMs <= peerDialTimeouts({}, untried).tcpDelayMs);
});
