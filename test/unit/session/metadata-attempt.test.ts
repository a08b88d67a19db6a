import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MetadataAttemptLog, metadataTimeoutMessage } from '../../../src/session/metadata-attempt.js';

test('metadata attempt log: counts distinct peers by their last outcome and says what was tried', () => {
  const log = new MetadataAttemptLog();
  log.trackerAsked('http://127.0.0.1:1/announce');
  log.trackerAsked('http://127.0.0.1:2/announce');
  log.trackerAsked('udp://127.0.0.1:3');
  log.trackerFailed('http://127.0.0.1:1/announce', 'connect ECONNREFUSED 127.0.0.1:1');
  log.trackerFailed('http://127.0.0.1:2/announce', 'first failure');
  log.trackerAnswered('http://127.0.0.1:2/announce');
  log.trackerFailed('http://127.0.0.1:2/announce', 'a later failure does not undo an answer');
  for (const key of ['127.0.0.2:1', '127.0.0.3:1', '127.0.0.4:1', '127.0.0.5:1']) log.peerFound(key);
  log.peerFound('127.0.0.2:1');
  log.peerEnded('127.0.0.2:1', 'unreachable');
  for (const key of ['127.0.0.3:1', '127.0.0.4:1', '127.0.0.5:1']) log.peerConnected(key);
  log.peerEnded('127.0.0.3:1', 'timed-out');
  log.peerEnded('127.0.0.3:1', 'no-metadata'); // reconnected later: the last outcome counts
  log.peerEnded('127.0.0.4:1', 'liar');
  log.peerEnded('127.0.0.4:1', 'closed'); // a liar stays a liar
  log.peerEnded('127.0.0.5:1', 'timed-out');
  log.blockReceived();
  const summary = log.summary();
  assert.deepEqual(summary.outcomes, {
    unreachable: 1,
    'no-metadata': 1,
    'timed-out': 1,
    liar: 1,
    closed: 0,
  });
  assert.equal(
    metadataTimeoutMessage(300_000, summary),
    'metadata could not be fetched (no progress for 5m): 3 trackers (1 answered, 1 failed: ' +
      'connect ECONNREFUSED 127.0.0.1:1, 1 no answer yet), 4 peers found, 3 connected, 1 had no metadata, ' +
      '1 timed out, 1 sent wrong metadata, 1 unreachable, 1 block received',
  );
});

test('metadata attempt log: nothing tried reads plainly', () => {
  assert.equal(
    metadataTimeoutMessage(2000, new MetadataAttemptLog().summary()),
    'metadata could not be fetched (no progress for 2s): no trackers, 0 peers found, 0 connected',
  );
});
