import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderEncryption, summarizeEncryption } from '../../../bench/encryption-row.js';
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
