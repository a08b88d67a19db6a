import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StallWatch } from '../../../src/cli/stall-watch.js';

test('stall watch: quiet until afterMs without peers or tracker answers, then says why', () => {
  let now = 0;
  const watch = new StallWatch({ trackers: 2, trackersOff: false, afterMs: 60_000, now: () => now });
  watch.trackerFailed('http://a/announce', 'connect ECONNREFUSED');
  watch.trackerFailed('udp://b:1', 'timed out');
  now = 59_999;
  assert.equal(watch.check({ peers: 0, knownPeers: 0 }), undefined);
  now = 60_000;
  assert.deepEqual(watch.check({ peers: 0, knownPeers: 0 }), {
    kind: 'no-peers',
    reason: 'no peers yet (60s): 2 of 2 trackers failed (connect ECONNREFUSED; timed out)',
  });
  // Peers known but none connects.
  watch.peerDisconnected('connection refused');
  assert.deepEqual(watch.check({ peers: 0, knownPeers: 5 }), {
    kind: 'none-connected',
    reason: 'no peers connected (60s): 5 known, none reachable (last: connection refused)',
  });
  // A connected peer clears it and restarts the quiet period.
  assert.equal(watch.check({ peers: 1, knownPeers: 5 }), undefined);
  now += 30_000;
  assert.equal(watch.check({ peers: 0, knownPeers: 5 }), undefined);
  // A tracker answer also counts as something happening.
  now += 50_000;
  watch.trackerAnswered('http://a/announce');
  now += 59_000;
  assert.equal(watch.check({ peers: 0, knownPeers: 0 }), undefined);
  now += 1000;
  assert.match(
    watch.check({ peers: 0, knownPeers: 0 })!.reason,
    /1 of 2 trackers failed \(timed out\), trackers answered with no peers/,
  );
});

test('stall watch: names turned-off and missing trackers', () => {
  let now = 0;
  const off = new StallWatch({ trackers: 0, trackersOff: true, now: () => now });
  const none = new StallWatch({ trackers: 0, trackersOff: false, now: () => now });
  now = 60_000;
  assert.match(off.check({ peers: 0, knownPeers: 0 })!.reason, /trackers are turned off/);
  assert.match(none.check({ peers: 0, knownPeers: 0 })!.reason, /the torrent has no trackers/);
});

test('stall watch: says what the DHT and PEX are doing, not just "no trackers"', () => {
  let now = 0;
  const watch = new StallWatch({ trackers: 0, trackersOff: false, dht: 'on', pex: 'on', now: () => now });
  now = 60_000;
  assert.deepEqual(watch.check({ peers: 0, knownPeers: 0, dht: { nodes: 0, activeLookups: 0 } }), {
    kind: 'no-peers',
    reason:
      'no peers yet (60s): the torrent has no trackers; DHT: no node reached yet, no peers found; PEX: needs a connected peer',
  });
  assert.equal(
    watch.check({ peers: 0, knownPeers: 0, dht: { nodes: 120, activeLookups: 1 } })!.reason,
    'no peers yet (60s): the torrent has no trackers; DHT: searching (120 nodes, 1 lookup running), no peers found; PEX: needs a connected peer',
  );
  watch.peersLearned('dht', 3);
  watch.peersLearned('pex', 1);
  watch.peerDisconnected('connection refused');
  assert.equal(
    watch.check({ peers: 0, knownPeers: 4, dht: { nodes: 130, activeLookups: 0 } })!.reason,
    'no peers connected (60s): 4 known, none reachable (last: connection refused); DHT: 130 nodes, 3 peers found; PEX: 1 peer learned',
  );
  now = 0;
  const off = new StallWatch({ trackers: 0, trackersOff: false, dht: 'off', pex: 'on', now: () => now });
  const priv = new StallWatch({
    trackers: 1,
    trackersOff: false,
    dht: 'private',
    pex: 'private',
    now: () => now,
  });
  now = 60_000;
  assert.match(
    off.check({ peers: 0, knownPeers: 0 })!.reason,
    /; DHT: turned off; PEX: needs a connected peer$/,
  );
  assert.match(
    priv.check({ peers: 0, knownPeers: 0 })!.reason,
    /1 not answering; DHT: not used \(private torrent\); PEX: not used \(private torrent\)$/,
  );
});
