import assert from 'node:assert/strict';
import { test } from 'node:test';
import { noPeerSourceError } from '../../../src/session/peer-source.js';

test('no peer source: trackers turned off or absent, and no peer address', () => {
  const off = noPeerSourceError({ kind: 'torrent', trackers: 2, useTrackers: false, peers: 0 });
  assert.equal(off?.code, 'LODESTONE_ERR_NO_PEER_SOURCE');
  assert.match(
    off!.message,
    /no way to find peers: its 2 trackers are turned off \(--no-trackers\), no peer addresses \(--peer\)/,
  );
  const none = noPeerSourceError({ kind: 'magnet link', trackers: 0, useTrackers: true, peers: 0 });
  assert.match(none!.message, /the magnet link has no trackers, no peer addresses \(x\.pe or --peer\)/);
  assert.equal(noPeerSourceError({ kind: 'torrent', trackers: 1, useTrackers: true, peers: 0 }), undefined);
  assert.equal(noPeerSourceError({ kind: 'torrent', trackers: 1, useTrackers: false, peers: 1 }), undefined);
  assert.equal(
    noPeerSourceError({ kind: 'magnet link', trackers: 0, useTrackers: false, peers: 1 }),
    undefined,
  );
});

test('the DHT is a peer source: a magnet with only xt is fine when it is on', () => {
  assert.equal(
    noPeerSourceError({ kind: 'magnet link', trackers: 0, useTrackers: true, peers: 0, dht: true }),
    undefined,
  );
  const off = noPeerSourceError({
    kind: 'magnet link',
    trackers: 0,
    useTrackers: true,
    peers: 0,
    dht: false,
  });
  assert.match(off!.message, /the DHT is off \(--no-dht\)/);
});
