import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DoctorPeer, DoctorReport, DoctorSource } from '../../../src/session/doctor-report.js';
import { countPeers } from '../../../src/session/doctor-report.js';
import { doctorVerdict } from '../../../src/session/doctor-verdict.js';

const PEX: DoctorSource = {
  kind: 'pex',
  label: 'PEX',
  status: 'not-available',
  peers: 0,
  note: 'not measured by doctor',
};
const DHT_OFF: DoctorSource = {
  kind: 'dht',
  label: 'DHT',
  status: 'not-used',
  peers: 0,
  note: 'off (--no-dht)',
};
const NOT_AVAILABLE: DoctorSource[] = [DHT_OFF, PEX];

function dht(status: DoctorSource['status'], extra: Partial<DoctorSource> = {}): DoctorSource {
  return { kind: 'dht', label: 'DHT', status, peers: 0, ...extra };
}

/** A report whose DHT source is `source` (instead of off). */
function withDht(
  kind: 'torrent' | 'magnet',
  sources: DoctorSource[],
  peers: DoctorPeer[],
  source: DoctorSource,
): DoctorReport {
  return report(kind, sources, peers, { sources: [...sources, source, PEX] });
}

function tracker(status: DoctorSource['status'], extra: Partial<DoctorSource> = {}): DoctorSource {
  return { kind: 'tracker', label: `http://t${Math.random()}/announce`, status, peers: 0, tier: 0, ...extra };
}

function peer(extra: Partial<DoctorPeer>): DoctorPeer {
  return {
    address: `127.0.0.1:${1000 + Math.floor(Math.random() * 1000)}`,
    sources: ['x'],
    handshake: false,
    ...extra,
  };
}

function report(
  kind: 'torrent' | 'magnet',
  sources: DoctorSource[],
  peers: DoctorPeer[],
  extra: Partial<DoctorReport> = {},
): DoctorReport {
  return {
    infoHash: 'ab'.repeat(20),
    kind,
    durationMs: 1000,
    timeLimitMs: 30_000,
    sources: [...sources, ...NOT_AVAILABLE],
    peers,
    ...(kind === 'torrent' ? { pieceCount: 10, piecesAvailable: 0 } : {}),
    ...extra,
  };
}

const seeder = (): DoctorPeer => peer({ handshake: true, seeder: true, piecesHave: 10, pieceCount: 10 });

describe('doctorVerdict', { timeout: 10_000 }, () => {
  test('no source at all: says there is no way to find peers, and that the DHT/PEX did not run', () => {
    const verdict = doctorVerdict(report('magnet', [], []));
    assert.equal(verdict.code, 'no-sources');
    assert.equal(verdict.ok, false);
    assert.match(verdict.text, /no way to find peers/);
    assert.match(verdict.text, /DHT off \(--no-dht\); PEX not measured by doctor/);
    const privateTorrent = doctorVerdict(
      withDht('torrent', [], [], dht('not-used', { note: 'not used: private torrent' })),
    );
    assert.equal(privateTorrent.code, 'no-sources');
    assert.match(privateTorrent.text, /DHT not used: private torrent/);
  });

  test('no tracker and the DHT reached no node: dht-failed, naming the bootstrap', () => {
    const failed = dht('failed', {
      error: 'no node answered the bootstrap (1 contact tried)',
      nodesKnown: 0,
    });
    const verdict = doctorVerdict(withDht('magnet', [], [], failed));
    assert.equal(verdict.code, 'dht-failed');
    assert.equal(verdict.ok, false);
    assert.match(
      verdict.text,
      /^There is no tracker to ask and the DHT reached no peer \(no node answered the bootstrap \(1 contact tried\)\)/,
    );
    assert.match(verdict.text, /0 peers were found: this magnet has no reachable seeders/);
    // Did not finish in time: the same code, its own reason.
    const late = doctorVerdict(
      withDht('magnet', [], [], dht('no-answer', { error: 'the bootstrap did not finish' })),
    );
    assert.equal(late.code, 'dht-failed');
    assert.match(late.text, /the bootstrap did not finish/);
  });

  test('trackers failed and the DHT reached no node: both are named', () => {
    const verdict = doctorVerdict(
      withDht(
        'magnet',
        [tracker('failed', { error: 'connect ECONNREFUSED' })],
        [],
        dht('failed', { error: 'no node answered the bootstrap (2 contacts tried)' }),
      ),
    );
    assert.equal(verdict.code, 'trackers-failed');
    assert.match(
      verdict.text,
      /No tracker answered \(1 tracker: 1 failed \(connect ECONNREFUSED\)\) and the DHT reached no peer \(no node answered the bootstrap \(2 contacts tried\)\)/,
    );
  });

  test('no tracker answered and the DHT returned 0 peers: no reachable seeders', () => {
    const answered = dht('answered', { nodesReached: 5, queries: 9, rounds: 2 });
    const verdict = doctorVerdict(withDht('magnet', [tracker('no-answer')], [], answered));
    assert.equal(verdict.code, 'no-peers');
    assert.equal(verdict.ok, false);
    assert.match(
      verdict.text,
      /^No tracker answered \(1 tracker: 1 did not answer in time\) and the DHT returned 0 peers \(5 nodes reached, 2 rounds\)/,
    );
    assert.match(verdict.text, /this magnet has no reachable seeders/);
    const alone = doctorVerdict(withDht('magnet', [], [], answered));
    assert.match(alone.text, /^There is no tracker to ask and the DHT returned 0 peers/);
  });

  test('the DHT found the peers: a healthy verdict says how many', () => {
    const found = dht('answered', { peers: 2, nodesReached: 3, queries: 4, rounds: 1 });
    const verdict = doctorVerdict(
      withDht(
        'magnet',
        [],
        [peer({ handshake: true, hasMetadata: true }), peer({ failure: 'refused' })],
        found,
      ),
    );
    assert.equal(verdict.code, 'healthy');
    assert.equal(verdict.ok, true);
    assert.match(verdict.text, / The DHT found 2 peers \(3 nodes reached\)\.$/);
  });

  test('peers from a tracker while the DHT found nobody: the verdict mentions the DHT', () => {
    const verdict = doctorVerdict(
      withDht(
        'torrent',
        [tracker('answered', { peers: 1 })],
        [seeder()],
        dht('failed', { error: 'no node answered the bootstrap (1 contact tried)' }),
      ),
    );
    assert.equal(verdict.code, 'healthy');
    assert.match(
      verdict.text,
      / The DHT found nobody: no node answered the bootstrap \(1 contact tried\)\.$/,
    );
  });

  test('every tracker failed and nothing else: names the failures and 0 peers', () => {
    const verdict = doctorVerdict(
      report('magnet', [tracker('failed', { error: 'connect ECONNREFUSED' }), tracker('no-answer')], []),
    );
    assert.equal(verdict.code, 'trackers-failed');
    assert.equal(verdict.ok, false);
    assert.match(
      verdict.text,
      /^No tracker answered \(2 trackers: 1 failed \(connect ECONNREFUSED\), 1 did not answer in time\)/,
    );
    assert.match(verdict.text, /0 peers were found: this magnet has no reachable seeders/);
  });

  test('a tracker answered with no peers: the swarm is empty', () => {
    const verdict = doctorVerdict(report('torrent', [tracker('answered')], []));
    assert.equal(verdict.code, 'no-peers');
    assert.match(verdict.text, /answered .* but named 0 peers/);
  });

  test('peers found, all refused: check your network', () => {
    const peers = Array.from({ length: 12 }, () => peer({ failure: 'refused' }));
    const verdict = doctorVerdict(report('torrent', [tracker('answered', { peers: 12 })], peers));
    assert.equal(verdict.code, 'unreachable');
    assert.equal(verdict.ok, false);
    assert.match(
      verdict.text,
      /^12 peers found but all refused the connection: check your network and firewall/,
    );
  });

  test('peers found, all timed out: check your network', () => {
    const verdict = doctorVerdict(
      report('torrent', [], [peer({ failure: 'timeout' }), peer({ failure: 'timeout' })]),
    );
    assert.equal(verdict.code, 'unreachable');
    assert.match(verdict.text, /^2 peers found but all timed out: check your network/);
  });

  test('mixed failures are listed by reason', () => {
    const verdict = doctorVerdict(
      report(
        'torrent',
        [],
        [peer({ failure: 'refused' }), peer({ failure: 'timeout' }), peer({ failure: 'dropped' })],
      ),
    );
    assert.equal(verdict.code, 'unreachable');
    assert.match(
      verdict.text,
      /none could be connected \(1 refused the connection, 1 timed out, 1 dropped us\)/,
    );
  });

  test('every peer dropped us (before or after the handshake): says so, with what to try', () => {
    const verdict = doctorVerdict(
      report('torrent', [], [peer({ failure: 'dropped' }), peer({ handshake: true, failure: 'dropped' })]),
    );
    assert.equal(verdict.code, 'dropped');
    assert.equal(verdict.ok, false);
    assert.match(verdict.text, /^2 peers found but all dropped the connection/);
    assert.match(verdict.text, /--encryption/);
  });

  test('every peer failed the encryption handshake: names the setting to change', () => {
    const verdict = doctorVerdict(report('torrent', [], [peer({ failure: 'encryption-failed' })]));
    assert.equal(verdict.code, 'encryption-mismatch');
    assert.match(
      verdict.text,
      /^1 peer found but it failed the encryption handshake: .*try --encryption prefer/,
    );
  });

  test('wrong info-hash', () => {
    const verdict = doctorVerdict(report('magnet', [], [peer({ failure: 'wrong-info-hash' })]));
    assert.equal(verdict.code, 'wrong-info-hash');
    assert.match(verdict.text, /^1 peer found but it answered for another torrent \(wrong info-hash\)/);
  });

  test('magnet: peers connected, none offers the metadata', () => {
    const verdict = doctorVerdict(
      report('magnet', [], [peer({ handshake: true, hasMetadata: false }), peer({ handshake: true })]),
    );
    assert.equal(verdict.code, 'no-metadata');
    assert.equal(verdict.ok, false);
    assert.match(verdict.text, /^2 peers reachable \(of 2 found\), but none offers the metadata/);
  });

  test('magnet: a peer with the metadata is healthy', () => {
    const verdict = doctorVerdict(report('magnet', [], [peer({ handshake: true, hasMetadata: true })]));
    assert.equal(verdict.code, 'healthy');
    assert.equal(verdict.ok, true);
    assert.match(verdict.text, /1 with the metadata/);
  });

  test('torrent: no seeder, the reachable peers have part of it: the share is given', () => {
    const verdict = doctorVerdict(
      report('torrent', [], [peer({ handshake: true, piecesHave: 3, pieceCount: 10 })], {
        piecesAvailable: 4,
      }),
    );
    assert.equal(verdict.code, 'no-seeder');
    assert.equal(verdict.ok, false);
    assert.match(
      verdict.text,
      /no seeder is reachable: the reachable peers have 40\.0% of the torrent in total \(4 of 10 pieces\)/,
    );
  });

  test('torrent: no single seeder but every piece among the peers is still ok', () => {
    const verdict = doctorVerdict(
      report(
        'torrent',
        [],
        [peer({ handshake: true, piecesHave: 5 }), peer({ handshake: true, piecesHave: 5 })],
        {
          piecesAvailable: 10,
        },
      ),
    );
    assert.equal(verdict.code, 'complete-without-seeder');
    assert.equal(verdict.ok, true);
  });

  test('torrent: a reachable seeder is healthy; failed peers do not count as reachable', () => {
    const dropped = peer({ handshake: true, seeder: true, failure: 'dropped' });
    const verdict = doctorVerdict(
      report(
        'torrent',
        [tracker('answered', { peers: 3 })],
        [seeder(), seeder(), dropped, peer({ failure: 'refused' })],
        {
          piecesAvailable: 10,
        },
      ),
    );
    assert.equal(verdict.code, 'healthy');
    assert.equal(verdict.ok, true);
    assert.match(verdict.text, /^2 peers reachable \(of 4 found\), 2 seeders; the download should start\.$/);
    assert.equal(countPeers(report('torrent', [], [dropped])).seeders, 0);
  });

  test('healthy but a tracker failed: the verdict mentions it', () => {
    const verdict = doctorVerdict(
      report('torrent', [tracker('answered', { peers: 1 }), tracker('failed', { error: 'x' })], [seeder()], {
        piecesAvailable: 10,
      }),
    );
    assert.equal(verdict.code, 'healthy');
    assert.match(verdict.text, /Of 2 trackers, 1 failed\.$/);
  });

  test('a dropped seeder alone is not healthy', () => {
    const verdict = doctorVerdict(
      report('torrent', [], [peer({ handshake: true, seeder: true, failure: 'dropped' })], {
        piecesAvailable: 0,
      }),
    );
    assert.equal(verdict.ok, false);
    assert.equal(verdict.code, 'dropped');
  });
});
