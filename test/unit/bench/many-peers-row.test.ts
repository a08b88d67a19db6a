import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../../../bench/config.js';
import { type ManyPeersResult, renderManyPeers, summarizeManyPeers } from '../../../bench/many-peers-row.js';

test('many-peers row: part of the default and quick rows, 256 MiB full and 32 MiB quick, 20 vs 200', () => {
  const full = parseConfig([]);
  const quick = parseConfig(['--quick']);
  assert.ok(full?.rows.includes('many-peers'));
  assert.ok(quick?.rows.includes('many-peers'));
  assert.equal(full?.manyPeersSize, 256 * 1024 * 1024);
  assert.equal(quick?.manyPeersSize, 32 * 1024 * 1024);
  assert.deepEqual(full?.manyPeers, [20, 200]);
  assert.deepEqual(parseConfig(['--many-peers', '10,50'])?.manyPeers, [10, 50]);
  assert.throws(() => parseConfig(['--many-peers', '10,x']), /--many-peers must be a positive integer/);
});

const result = (round: number, peers: number, mibPerSecond: number, cpuPerGiB: number): ManyPeersResult => ({
  round,
  peers,
  connected: peers,
  mibPerSecond,
  cpuPerGiB,
});

test('many-peers row: 200 ÷ 20 within each round, medians judged against 0.85× and 1.15×', () => {
  const results = [
    result(1, 20, 100, 2),
    result(1, 200, 90, 2.2), // 0.9, 1.1
    result(2, 200, 80, 2.6), // 0.8, 1.3
    result(2, 20, 100, 2),
    result(3, 20, 200, 4),
    result(3, 200, 190, 4.2), // 0.95, 1.05
  ];
  const summary = summarizeManyPeers(results, [20, 200]);
  assert.equal(summary.throughput?.median, 0.9);
  assert.equal(summary.throughput?.n, 3);
  assert.ok(Math.abs((summary.cpu?.median ?? 0) - 1.1) < 1e-9);
  assert.equal(summary.held, true);
  const missed = summarizeManyPeers(
    [
      ...results,
      result(4, 20, 100, 2),
      result(4, 200, 100, 2.6),
      result(5, 20, 100, 2),
      result(5, 200, 100, 2.6),
    ],
    [20, 200],
  );
  assert.equal(missed.cpu?.median, 1.3);
  assert.equal(missed.held, false);
  // A failed download leaves its round out of the ratios.
  const failed = summarizeManyPeers(
    [result(1, 20, 100, 2), { round: 1, peers: 200, error: 'timed out' }],
    [20, 200],
  );
  assert.equal(failed.cpu, undefined);
  assert.equal(failed.held, undefined);
});

test('many-peers row: the report shows every download, the ratios and the verdict', () => {
  const text = renderManyPeers({
    totalSize: '256 MiB',
    pieceLength: '256 KiB',
    real: ['transmission', 'aria2'],
    cases: [20, 200],
    results: [result(1, 20, 100, 2), result(1, 200, 95, 2.8), { round: 2, peers: 20, error: 'timed out' }],
  }).join('\n');
  assert.match(text, /Many peers: 20 vs 200 peers/);
  assert.match(text, /\| 1 \| 200 \| 200 \| 95\.0 \| 2\.80 \|/);
  assert.match(text, /\*\*failed\*\*: timed out/);
  assert.match(text, /CPU per GiB 1\.40 .*\*\*missed\*\*/);
  assert.doesNotMatch(text, /Not every peer connected/);
  const short = renderManyPeers({
    totalSize: '32 MiB',
    pieceLength: '256 KiB',
    real: [],
    cases: [20, 200],
    results: [result(1, 20, 100, 2), { ...result(1, 200, 95, 2.8), connected: 80 }],
  }).join('\n');
  assert.match(short, /Not every peer connected before the download ended \(80 of 200\)/);
  assert.deepEqual(renderManyPeers(undefined), []);
});
