/**
 * Dial timeouts of the download and the metadata phase: until a first peer connects, uTP's head
 * start before TCP is RFC 8305's lowest recommended 100 ms instead of 1 s (nothing moves before a first peer; a
 * TCP-only peer would cost the whole head start). Pure: no dial.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { metadataDialTimeouts } from '../../../src/session/metadata-dial.js';
import { FIRST_PEER_TCP_DELAY_MS, peerDialTimeouts } from '../../../src/session/peer-dialer.js';

test('the download: uTP gets 100 ms while no peer is connected, 1 s once one is (250 ms under pressure)', () => {
  assert.equal(FIRST_PEER_TCP_DELAY_MS, 100);
  assert.equal(peerDialTimeouts({}, 1, 0).tcpDelayMs, 100, 'the first peers');
  assert.equal(peerDialTimeouts({}, 1, 1).tcpDelayMs, 1000);
  assert.equal(peerDialTimeouts({}, 1000, 5).tcpDelayMs, 250, 'many untried addresses waiting');
  assert.equal(peerDialTimeouts({}, 1000, 0).tcpDelayMs, 100);
});

test('the metadata phase dials with the download’s numbers', () => {
  assert.equal(peerDialTimeouts({}, 1).tcpDelayMs, 1000, 'the download’s head start (the reference)');
  assert.deepEqual(metadataDialTimeouts(0, 1), { ...peerDialTimeouts({}, 1), tcpDelayMs: 100 });
  assert.deepEqual(metadataDialTimeouts(1, 1), peerDialTimeouts({}, 1));
  // Under dial pressure the download's head start is already short: never lengthened.
  for (const untried of [0, 10, 1000])
    assert.ok(metadataDialTimeouts(0, untried).tcpDelayMs <= peerDialTimeouts({}, untried).tcpDelayMs);
});
