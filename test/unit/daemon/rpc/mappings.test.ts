import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { TorrentSummary } from '../../../../src/daemon/index.js';
import {
  addOptionsFromArgs,
  parseIds,
  parseTrackerList,
  RpcArgumentError,
  settingsPatchFromArgs,
  torrentPatchFromArgs,
} from '../../../../src/daemon/rpc/arguments.js';
import {
  selectSessionFields,
  sessionStats,
  sessionValues,
} from '../../../../src/daemon/rpc/session-fields.js';
import { knownFields, torrentObject, torrentValues } from '../../../../src/daemon/rpc/torrent-fields.js';
import { defaultTestSettings, MemoryDaemon, makeTorrentBytes } from '../../../helpers/memory-daemon.js';

async function oneTorrent() {
  const api = new MemoryDaemon();
  const bytes = makeTorrentBytes('album', [
    { path: ['a.flac'], length: 40000 },
    { path: ['b.flac'], length: 10000 },
  ]);
  const { torrent } = await api.add({ source: { kind: 'metainfo', bytes }, paused: true });
  return { api, torrent };
}

describe('torrent-get fields', () => {
  test('status, error, priorities and modes use Transmission numbers', async () => {
    const { api, torrent } = await oneTorrent();
    const t = api.torrent(torrent.id);
    t.fileList[1]!.priority = 'high';
    t.fileList[0]!.priority = 'low';
    t.fileList[1]!.wanted = false;
    t.settings.seedRatioMode = 'unlimited';
    t.settings.seedIdleMode = 'single';
    t.settings.bandwidthPriority = 'high';
    t.status = 'seed-wait';
    const got = torrentObject(torrent, [
      'status',
      'error',
      'errorString',
      'priorities',
      'wanted',
      'seedRatioMode',
      'seedIdleMode',
      'bandwidthPriority',
      'sizeWhenDone',
      'totalSize',
    ]);
    assert.deepEqual(got, {
      status: 5,
      error: 0,
      errorString: '',
      priorities: [-1, 1],
      wanted: [1, 0],
      seedRatioMode: 2,
      seedIdleMode: 1,
      bandwidthPriority: 1,
      sizeWhenDone: 40000,
      totalSize: 50000,
    });
  });

  test('every status maps to its number 0–6', async () => {
    const { api, torrent } = await oneTorrent();
    const order = [
      'stopped',
      'check-wait',
      'checking',
      'download-wait',
      'downloading',
      'seed-wait',
      'seeding',
    ] as const;
    order.forEach((status, i) => {
      api.torrent(torrent.id).status = status;
      assert.deepEqual(torrentValues(torrent, ['status']), [i]);
    });
  });

  test('errors map to 1 (tracker warning), 2 (tracker error), 3 (local)', async () => {
    const { torrent } = await oneTorrent();
    const kinds = ['tracker-warning', 'tracker-error', 'local'] as const;
    kinds.forEach((kind, i) => {
      const summary: TorrentSummary = { ...torrent.summary(), error: { kind, message: `m${i}` } };
      const fake = {
        ...torrent,
        id: torrent.id,
        hash: torrent.hash,
        summary: () => summary,
        files: () => [],
        peers: () => [],
        trackers: () => [],
        pieces: () => new Uint8Array(),
      };
      assert.deepEqual(torrentValues(fake, ['error', 'errorString']), [i + 1, `m${i}`]);
    });
  });

  test('speed limits are kB/s (1000 bytes) and limited flags follow the contract', async () => {
    const { api, torrent } = await oneTorrent();
    api.torrent(torrent.id).settings.downloadLimit = 250_000;
    assert.deepEqual(
      torrentObject(torrent, ['downloadLimit', 'downloadLimited', 'uploadLimit', 'uploadLimited']),
      {
        downloadLimit: 250,
        downloadLimited: true,
        uploadLimit: 0,
        uploadLimited: false,
      },
    );
  });

  test('files and fileStats list every file; pieces is base64 of the bitfield', async () => {
    const { torrent } = await oneTorrent();
    const got = torrentObject(torrent, ['files', 'fileStats', 'pieces', 'pieceCount']);
    assert.deepEqual(got.files, [
      { bytesCompleted: 0, length: 40000, name: 'album/a.flac' },
      { bytesCompleted: 0, length: 10000, name: 'album/b.flac' },
    ]);
    assert.deepEqual(got.fileStats, [
      { bytesCompleted: 0, priority: 0, wanted: true },
      { bytesCompleted: 0, priority: 0, wanted: true },
    ]);
    assert.equal(got.pieceCount, 4);
    assert.equal(got.pieces, Buffer.alloc(1).toString('base64'));
  });

  test('uploadRatio is -1 with no transfer at all, as Transmission', async () => {
    const { torrent } = await oneTorrent();
    assert.deepEqual(torrentValues(torrent, ['uploadRatio']), [-1]);
  });

  test('unknown field names are skipped, repeats dropped', () => {
    assert.deepEqual(knownFields(['id', 'noSuchField', 'name', 'id', '__proto__', 'toString']), [
      'id',
      'name',
    ]);
  });
});

describe('RPC arguments', () => {
  test('ids: absent, number, hash, list, recently-active', () => {
    const hash = 'AB'.repeat(20);
    assert.equal(parseIds(undefined), undefined);
    assert.deepEqual(parseIds(3), [3]);
    assert.deepEqual(parseIds(hash), [hash.toLowerCase()]);
    assert.deepEqual(parseIds([1, hash, 'junk', 2.5, null]), [1, hash.toLowerCase()]);
    assert.equal(parseIds('recently-active'), 'recently-active');
    assert.deepEqual(parseIds('not-a-hash'), []);
    assert.throws(() => parseIds({}), RpcArgumentError);
  });

  test('torrent-set: kB/s limits to bytes/s, modes, priorities, file lists, trackerList', () => {
    const patch = torrentPatchFromArgs({
      downloadLimit: 250,
      downloadLimited: true,
      uploadLimited: false,
      seedRatioMode: 1,
      seedRatioLimit: 1.5,
      seedIdleMode: 2,
      bandwidthPriority: -1,
      'files-unwanted': [2],
      'priority-high': [0, 1],
      'peer-limit': 30,
      labels: ['tv', ' tv ', 'x'],
      queuePosition: 0,
      sequentialDownload: true,
      trackerList: 'http://a/announce\nhttp://b/announce\n\nudp://c:80',
    });
    assert.deepEqual(patch, {
      downloadLimit: 250_000,
      uploadLimit: undefined,
      peerLimit: 30,
      seedRatioMode: 'single',
      seedRatioLimit: 1.5,
      seedIdleMode: 'unlimited',
      sequential: true,
      labels: ['tv', 'x'],
      bandwidthPriority: 'low',
      filesUnwanted: [2],
      priorityHigh: [0, 1],
      queuePosition: 0,
      trackerList: [['http://a/announce', 'http://b/announce'], ['udp://c:80']],
    });
  });

  test('torrent-set refuses wrong types with a message', () => {
    assert.throws(() => torrentPatchFromArgs({ downloadLimit: 'fast' }), /invalid downloadLimit/);
    assert.throws(() => torrentPatchFromArgs({ seedRatioMode: 7 }), /invalid seedRatioMode/);
    assert.throws(() => torrentPatchFromArgs({ 'files-wanted': [-1] }), /invalid files-wanted/);
    assert.throws(() => torrentPatchFromArgs({ labels: ['a,b'] }), /comma/);
  });

  test('trackerList tolerates CRLF and blank tiers', () => {
    assert.deepEqual(parseTrackerList('\r\nhttp://a\r\n\r\n\r\nhttp://b\r\n'), [['http://a'], ['http://b']]);
  });

  test('torrent-add options', () => {
    assert.deepEqual(
      addOptionsFromArgs({
        paused: true,
        'download-dir': '/d',
        'files-unwanted': [1],
        'peer-limit': 9,
        labels: ['a'],
        bandwidthPriority: 1,
      }),
      {
        paused: true,
        downloadDir: '/d',
        filesUnwanted: [1],
        settings: { peerLimit: 9, bandwidthPriority: 'high', labels: ['a'] },
      },
    );
  });

  test('session-set: RPC names to settings names, rpc-* keys never', () => {
    const { patch, ignored } = settingsPatchFromArgs({
      'speed-limit-down': 300,
      seedRatioLimit: 2.5,
      seedRatioLimited: true,
      encryption: 'required',
      'rpc-whitelist-enabled': false,
      'rpc-password': 'x',
      'no-such-key': 1,
    });
    assert.deepEqual(patch, {
      'speed-limit-down': 300,
      'ratio-limit': 2.5,
      'ratio-limit-enabled': true,
      encryption: 2,
    });
    assert.deepEqual(ignored, ['rpc-whitelist-enabled', 'rpc-password', 'no-such-key']);
    assert.throws(() => settingsPatchFromArgs({ encryption: 'maybe' }), /invalid encryption/);
  });
});

describe('session-get and session-stats', () => {
  test('never shows rpc-* settings (the password above all); RPC names and units', () => {
    const settings = defaultTestSettings({
      'rpc-password': '{secret',
      'rpc-username': 'me',
      encryption: 2,
      'ratio-limit': 3,
    });
    const values = sessionValues(settings, {
      version: 'v',
      sessionId: 's',
      configDir: '/c',
      downloadDirFreeSpace: 5,
    });
    assert.ok(!Object.keys(values).some((k) => k.startsWith('rpc-') && !k.startsWith('rpc-version')));
    assert.ok(!JSON.stringify(values).includes('{secret'));
    assert.equal(values.encryption, 'required');
    assert.equal(values.seedRatioLimit, 3);
    assert.equal(values['rpc-version'], 17);
    assert.equal(values['session-id'], 's');
    assert.equal(values['download-dir-free-space'], 5);
    assert.deepEqual((values.units as { 'speed-bytes': number })['speed-bytes'], 1000);
    assert.deepEqual(selectSessionFields(values, ['version', 'nope']), { version: 'v' });
  });

  test('session-stats uses Transmission key names', () => {
    const api = new MemoryDaemon();
    const stats = sessionStats(api.stats());
    assert.deepEqual(Object.keys(stats).sort(), [
      'activeTorrentCount',
      'cumulative-stats',
      'current-stats',
      'downloadSpeed',
      'pausedTorrentCount',
      'torrentCount',
      'uploadSpeed',
    ]);
    assert.equal((stats['cumulative-stats'] as { sessionCount: number }).sessionCount, 3);
  });
});
