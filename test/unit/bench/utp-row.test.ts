import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../../../bench/config.js';
import type { DownloadRecord } from '../../../bench/report.js';
import { checkTransport, renderUtp, summarizeUtp } from '../../../bench/utp-row.js';

function run(
  seeders: 'libtorrent' | 'lodestone',
  leecher: 'lodestone' | 'libtorrent',
  transport: 'utp' | 'tcp',
  round: number,
  mibPerSecond: number,
  cpuSecondsPerGiB = 10,
  ok = true,
): DownloadRecord {
  return {
    phase: 'utp',
    seeders,
    leecher,
    source: 'torrent',
    round,
    transport,
    ok,
    mibPerSecond,
    cpuSecondsPerGiB,
    ...(leecher === 'lodestone' ? { peersByTransport: { [transport]: 1 } } : {}),
  };
}

test('utp row: Lodestone ÷ libtorrent and uTP ÷ TCP, each within its round', () => {
  const records: DownloadRecord[] = [
    run('libtorrent', 'lodestone', 'utp', 1, 60, 8),
    run('libtorrent', 'libtorrent', 'utp', 1, 20, 4), // 3.0, CPU 2.0
    run('libtorrent', 'libtorrent', 'utp', 2, 10, 4),
    run('libtorrent', 'lodestone', 'utp', 2, 40, 12), // 4.0, CPU 3.0
    run('lodestone', 'lodestone', 'utp', 1, 50),
    run('lodestone', 'lodestone', 'tcp', 1, 100), // 0.5
    run('lodestone', 'lodestone', 'tcp', 2, 100),
    run('lodestone', 'lodestone', 'utp', 2, 70), // 0.7
    // Another phase's records never count.
    { ...run('lodestone', 'lodestone', 'tcp', 1, 1), phase: 'swarm' },
  ];
  const summary = summarizeUtp(records);
  assert.ok(summary);
  const [lt, tcp] = summary.ratios;
  assert.equal(lt?.throughput?.n, 2);
  assert.equal(lt?.throughput?.min, 3);
  assert.equal(lt?.throughput?.max, 4);
  assert.equal(lt?.cpu?.min, 2);
  assert.equal(lt?.cpu?.max, 3);
  assert.equal(tcp?.throughput?.min, 0.5);
  assert.equal(tcp?.throughput?.max, 0.7);
  const text = renderUtp(records, { totalSize: '256MiB', pieceLength: '256KiB' }).join('\n');
  assert.match(text, /## uTP: 256MiB in pieces of 256KiB/);
  assert.match(text, /\| libtorrent \| libtorrent \| uTP only \| 2 \| 15\.0 \(10\.0–20\.0\) \|/);
  assert.match(text, /\| lodestone \| lodestone \| TCP only \| 2 \| 100 \|/);
  assert.match(text, /\| Lodestone ÷ libtorrent, both over uTP from libtorrent \| 3\.50 \(3\.00–4\.00\) \|/);
  assert.match(text, /\| Lodestone over uTP ÷ over TCP, from Lodestone \| 0\.60 \(0\.50–0\.70\) \|/);
});

test('utp row: a failed download leaves its round without a ratio; no records, no section', () => {
  const records = [
    run('lodestone', 'lodestone', 'utp', 1, 50),
    run('lodestone', 'lodestone', 'tcp', 1, 100, 10, false),
  ];
  assert.deepEqual(summarizeUtp(records)?.ratios, []);
  assert.match(renderUtp(records, undefined).join('\n'), /\| lodestone \| lodestone \| TCP only \| 0\/1 \|/);
  assert.equal(summarizeUtp([]), undefined);
  assert.deepEqual(renderUtp([], undefined), []);
});

test('utp row: a Lodestone download that connected over the other transport, or to nobody, is a failure', () => {
  const good = run('lodestone', 'lodestone', 'utp', 1, 50);
  assert.equal(checkTransport(good), good);
  const overTcp = checkTransport({ ...good, peersByTransport: { utp: 1, tcp: 1 } });
  assert.equal(overTcp.ok, false);
  assert.match(overTcp.error ?? '', /expected utp only, connected over utp, tcp/);
  assert.equal(checkTransport({ ...good, peersByTransport: {} }).ok, false);
  // libtorrent leechers report no transports (TCP is off in their session); failures stay failures.
  const lt = run('libtorrent', 'libtorrent', 'utp', 1, 10);
  assert.equal(checkTransport(lt), lt);
  const failed = run('lodestone', 'lodestone', 'tcp', 1, 10, 10, false);
  assert.equal(checkTransport(failed), failed);
});

test('utp row: part of the default and quick rows, 256 MiB full and 32 MiB quick', () => {
  const full = parseConfig([]);
  const quick = parseConfig(['--quick']);
  assert.ok(full?.rows.includes('utp'));
  assert.ok(quick?.rows.includes('utp'));
  assert.equal(full?.utpSize, 256 * 1024 * 1024);
  assert.equal(quick?.utpSize, 32 * 1024 * 1024);
  assert.equal(parseConfig(['--utp-size', '8MiB'])?.utpSize, 8 * 1024 * 1024);
});
