import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderEncryption, summarizeEncryption } from '../../../bench/encryption-row.js';
import { cpuPerGiBByKind } from '../../../bench/phases.js';
import type { DownloadRecord } from '../../../bench/report.js';

function run(
  encryption: 'require' | 'disable',
  round: number,
  mibPerSecond: number,
  ok = true,
): DownloadRecord {
  return {
    phase: 'encryption',
    seeders: 'aria2+qbittorrent',
    leecher: 'lodestone',
    source: 'torrent',
    round,
    encryption,
    ok,
    wallSeconds: 256 / mibPerSecond,
    mibPerSecond,
    cpuSecondsPerGiB: encryption === 'require' ? 12 : 8,
    peersByEncryption: encryption === 'require' ? { rc4: 3 } : { plaintext: 2 },
    peersByTransport: encryption === 'require' ? { tcp: 2, utp: 1 } : { tcp: 2 },
  };
}

test('encryption row: encrypted ÷ plaintext within each round, judged on the median against 0.8×', () => {
  const records: DownloadRecord[] = [
    run('require', 1, 90),
    run('disable', 1, 100), // 0.9
    run('disable', 2, 200),
    run('require', 2, 100), // 0.5
    run('require', 3, 70),
    run('disable', 3, 100), // 0.7
    // A swarm record of the same client must not count.
    { ...run('disable', 1, 1000), phase: 'swarm' },
  ];
  const summary = summarizeEncryption(records);
  assert.ok(summary);
  assert.equal(summary.throughput?.n, 3);
  assert.equal(summary.throughput?.median, 0.7);
  assert.equal(summary.throughput?.min, 0.5);
  assert.equal(summary.held, false);
  assert.equal(summary.encrypted.cpuSecondsPerGiB?.median, 12);
  assert.equal(summary.plaintext.mibPerSecond?.median, 100);
  const text = renderEncryption(records, undefined).join('\n');
  assert.match(
    text,
    /\| require \(RC4\) \| 3 \|.*\| 3 rc4 · 2 tcp \+ 1 utp, 3 rc4 · 2 tcp \+ 1 utp, 3 rc4 · 2 tcp \+ 1 utp \|/,
  );
  assert.match(
    text,
    /\| disable \(plaintext\) \| 3 \|.*\| 2 plaintext · 2 tcp, 2 plaintext · 2 tcp, 2 plaintext · 2 tcp \|/,
  );
  assert.match(text, /\| 0\.70 \(0\.50–0\.90\) \| ≥ 0\.8× \| \*\*no\*\* \|/);
});

test('encryption row: a round missing one of its downloads gives no ratio; held at exactly the target', () => {
  const records = [
    run('require', 1, 80),
    run('disable', 1, 100), // 0.8: held
    run('require', 2, 10),
    run('disable', 2, 100, false), // failed: round 2 has no ratio
  ];
  const summary = summarizeEncryption(records);
  assert.equal(summary?.throughput?.n, 1);
  assert.equal(summary?.held, true);
  assert.equal(summary?.plaintext.failed, 1);
  assert.match(renderEncryption(records, undefined).join('\n'), /\| disable \(plaintext\) \| 1\/2 \|/);
  assert.equal(summarizeEncryption([run('require', 1, 80)])?.held, undefined);
  assert.deepEqual(renderEncryption([], undefined), []);
});

test('encryption row: the libtorrent reference is summarised apart and never judged', () => {
  const records: DownloadRecord[] = [
    run('require', 1, 60),
    run('disable', 1, 100), // Lodestone 0.6
    { ...run('require', 1, 95), leecher: 'libtorrent' },
    { ...run('disable', 1, 100), leecher: 'libtorrent' }, // libtorrent 0.95
  ];
  const lodestone = summarizeEncryption(records);
  assert.equal(lodestone?.throughput?.median, 0.6);
  assert.equal(lodestone?.held, false);
  const reference = summarizeEncryption(records, 'libtorrent');
  assert.equal(reference?.throughput?.median, 0.95);
  const text = renderEncryption(records, undefined).join('\n');
  assert.match(text, /\| 0\.60 \| ≥ 0\.8× \| \*\*no\*\* \|/);
  assert.match(text, /Reference, not judged/);
  assert.match(text, /\| RC4 \| 1 \| 95\.0 \|.*\| 0\.95 \|/);
});

test('encryption row: each seeder’s CPU per GiB, RC4 beside plaintext, medians by kind', () => {
  const withSeeders = (record: DownloadRecord, byKind: Record<string, number>): DownloadRecord => ({
    ...record,
    seederCpuByKind: byKind,
  });
  const records: DownloadRecord[] = [
    withSeeders(run('require', 1, 60), { aria2: 1, qbittorrent: 4 }),
    withSeeders(run('disable', 1, 100), { aria2: 0.5, qbittorrent: 2 }),
    withSeeders(run('require', 2, 60), { aria2: 3, qbittorrent: 3.5 }),
    withSeeders(run('disable', 2, 100), { aria2: 0.25, qbittorrent: 1.5 }),
    // A failed download's figures are not counted.
    withSeeders(run('require', 3, 60, false), { aria2: 100, qbittorrent: 100 }),
  ];
  const summary = summarizeEncryption(records);
  assert.equal(summary?.encrypted.seederCpuByKind.aria2?.median, 2);
  assert.equal(summary?.encrypted.seederCpuByKind.qbittorrent?.max, 4);
  assert.equal(summary?.plaintext.seederCpuByKind.qbittorrent?.median, 1.75);
  assert.match(
    renderEncryption(records, undefined).join('\n'),
    /Each seeder's CPU s\/GiB, RC4 \/ plaintext \(median\): aria2 2\.00 \/ 0\.38 · qbittorrent 3\.75 \/ 1\.75\./,
  );
  assert.doesNotMatch(renderEncryption([run('require', 1, 60)], undefined).join('\n'), /Each seeder/);
});

test('cpuPerGiBByKind: each kind’s CPU between two samples per GiB downloaded', () => {
  assert.deepEqual(
    cpuPerGiBByKind({ aria2: 10, qbittorrent: 20 }, { aria2: 10.5, qbittorrent: 21 }, 2 ** 29),
    {
      aria2: 1,
      qbittorrent: 2,
    },
  );
  // A kind missing from the first sample counts from zero.
  assert.deepEqual(cpuPerGiBByKind({}, { transmission: 0.25 }, 2 ** 30), { transmission: 0.25 });
});
