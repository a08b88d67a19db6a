/**
 * The package's export map, exercised the way a user's program meets it: each entry is
 * imported by its package name (`lodestone/wire`, through package.json "exports", a
 * self-reference), so a missing file, a wrong path or a lost name fails here, not for a user.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = new URL('../../../', import.meta.url);
const packageJson = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
  name: string;
  version: string;
  exports: Record<string, string | { types: string; default: string }>;
  dependencies?: Record<string, string>;
};

/**
 * The top level, exactly: adding a name is a decision about the public API (document it and
 * add it here), not a side effect of `export *`.
 */
const TOP_LEVEL = [
  'BencodeError',
  'Bitfield',
  'CLIENT_NAME',
  'Client',
  'DaemonError',
  'DirectoryResumeStore',
  'DiscoveryCounters',
  'ENCRYPTION_POLICIES',
  'LodestoneError',
  'MagnetError',
  'MetadataFetcher',
  'MetainfoError',
  'MseError',
  'PEER_FAILURES',
  'StorageError',
  'TorrentSession',
  'TrackerError',
  'VERSION',
  'WireError',
  'countPeers',
  'createTorrent',
  'describeMetadataAttempt',
  'doctorVerdict',
  'formatDurationMs',
  'formatAddress',
  'isLodestoneError',
  'noPeerSourceError',
  'parseAddress',
  'parseDurationMs',
  'parseInfoDictionary',
  'parseMagnet',
  'parseTorrent',
  'runDiscoveryProbe',
  'systemClock',
  'toMagnetUri',
];

/** A few names each subpath must carry (what the CLI, the bench and the docs use). */
const SUBPATHS: Record<string, string[]> = {
  './bencode': ['decode', 'encode', 'decodePrefix'],
  './metainfo': ['parseTorrent', 'buildTorrentFile', 'describeTorrent', 'formatBytes', 'assertSafeComponent'],
  './create': ['createTorrent', 'autoPieceLength', 'DEFAULT_CREATED_BY'],
  './wire': [
    'MessageDecoder',
    'BufferPool',
    'sharedDecoderPool',
    'encodeMessage',
    'encodeHandshake',
    'describeMessage',
    'generatePeerId',
    'encodePexMessage',
    'decodePexMessage',
  ],
  './tracker': ['createTrackerClient', 'HttpTracker', 'UdpTracker', 'Announcer'],
  './peer': ['PeerConnection', 'PeerListener', 'dialPeer'],
  './daemon': ['Daemon', 'defaultSettings', 'validateSettingsPatch'],
  './policy': [
    'PiecePicker',
    'Choker',
    'DialBudget',
    'dialTimeouts',
    'allowedFastSet',
    'decideQueue',
    'queueMove',
    'checkSeedLimits',
    'isStalled',
    'altSpeedTick',
    'effectiveLimits',
    'BandwidthChannel',
    'BandwidthChain',
    'PeerBudget',
    'pickDonor',
  ],
  './storage': [
    'FileStorage',
    'MemoryStorage',
    'HashPool',
    'checkExisting',
    'toStorageError',
    'HandleBudget',
    'sharedHandleBudget',
    'DEFAULT_IDLE_CLOSE_MS',
    'DirectoryResumeStore',
    'decodeResumeRecord',
    'planResume',
    'ReadCacheBudget',
  ],
};

/** Through a variable, so TypeScript does not resolve it at compile time (dist may not exist). */
async function importByName(specifier: string): Promise<Record<string, unknown>> {
  return (await import(specifier)) as Record<string, unknown>;
}

describe('package exports', () => {
  test('the top level is the small documented API, exactly', async () => {
    const top = await importByName(packageJson.name);
    assert.deepEqual(Object.keys(top).sort(), [...TOP_LEVEL].sort());
    assert.equal(top.VERSION, packageJson.version);
  });

  test('every subpath in the export map resolves, with its types file, and carries its names', async () => {
    const listed = Object.keys(packageJson.exports).filter((key) => key !== '.' && key !== './package.json');
    assert.deepEqual(listed.sort(), Object.keys(SUBPATHS).sort());
    for (const [subpath, target] of Object.entries(packageJson.exports)) {
      if (typeof target === 'string') continue;
      assert.ok(existsSync(new URL(target.types, root)), `${subpath}: ${target.types} exists`);
      assert.ok(existsSync(new URL(target.default, root)), `${subpath}: ${target.default} exists`);
    }
    for (const [subpath, names] of Object.entries(SUBPATHS)) {
      const module = await importByName(`${packageJson.name}/${subpath.slice(2)}`);
      for (const name of names) {
        assert.ok(name in module, `${packageJson.name}/${subpath.slice(2)} exports ${name}`);
      }
    }
  });

  test('the tracker server of the demo is not a dependency of the library', () => {
    assert.equal(packageJson.dependencies?.['bittorrent-tracker'], undefined);
    assert.ok(existsSync(new URL('dist/cli/demo-tracker.js', root)), 'the command bundle carries it');
    const bundle = readFileSync(new URL('dist/cli/lodestone.js', root), 'utf8');
    assert.doesNotMatch(bundle, /from ["']bittorrent-tracker/, 'the command never imports the package');
    assert.doesNotMatch(bundle, /import\(["']bittorrent-tracker/, 'the command never imports the package');
  });

  test('the bundled command reports the package version', () => {
    const cli = fileURLToPath(new URL('dist/cli/lodestone.js', root));
    const run = spawnSync(process.execPath, [cli, '--version'], { encoding: 'utf8', timeout: 10_000 });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout.trim(), packageJson.version);
  });
});
