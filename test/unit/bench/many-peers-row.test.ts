import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../../../bench/config.js';
import { verifiedBytesBy } from '../../../bench/many-peers-leecher.js';
import { type ManyPeersResult, renderManyPeers, summarizeManyPeers } from '../../../bench/many-peers-row.js';

test('many-peers row: part of the default and quick rows, 1 GiB full and 32 MiB quick, 20 vs 200', () => {
  const full = parseConfig([]);
  const quick = parseConfig(['--quick']);
  assert.ok(full?.rows.includes('many-peers'));
  assert.ok(quick?.rows.includes('many-peers'));
  assert.equal(full?.manyPeersSize, 1024 * 1024 * 1024);
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
  connectedShare: 0.9,
  allConnectedSeconds: 0.5,
  connectedCpuPerGiB: cpuPerGiB * 0.9,
  mainThreadCpuPerGiB: cpuPerGiB / 2,
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
  assert.match(text, /\| 1 \| 200 \| 200 \| 0\.50 \| 90% \| 95\.0 \| 2\.80 \| 2\.52 \| 1\.40 \|/);
  assert.match(text, /\*\*failed\*\*: timed out/);
  assert.match(text, /CPU per GiB over the whole download 1\.40 .*\*\*missed\*\*/);
  assert.match(text, /after every peer had connected .*: 1\.40/);
  assert.match(text, /main thread's CPU per GiB .*: 1\.40/);
  assert.doesNotMatch(text, /Not every peer connected/);
  const short = renderManyPeers({
    totalSize: '32 MiB',
    pieceLength: '256 KiB',
    real: [],
    cases: [20, 200],
    results: [
      result(1, 20, 100, 2),
      { round: 1, peers: 200, connected: 80, mibPerSecond: 95, cpuPerGiB: 2.8, connectedShare: 0 },
    ],
  }).join('\n');
  assert.match(short, /Not every peer connected before the download ended \(80 of 200\)/);
  assert.match(
    short,
    /CPU per GiB over the whole download 1\.40 .*: not judged: in some 200-peer download not every peer/,
  );
  assert.doesNotMatch(short, /\*\*missed\*\*/);
  assert.deepEqual(renderManyPeers(undefined), []);
});

test('many-peers row: judged only when the 200 peers connected with half the content to come', () => {
  const late = (share: number): ManyPeersResult[] => [
    result(1, 20, 100, 2),
    { ...result(1, 200, 100, 2.1), connectedShare: share },
  ];
  const early = summarizeManyPeers(late(0.5), [20, 200]);
  assert.equal(early.allConnected, true);
  assert.equal(early.held, true);
  const tooLate = summarizeManyPeers(late(0.3), [20, 200]);
  assert.equal(tooLate.allConnected, false);
  assert.equal(tooLate.held, undefined, 'a download mostly spent connecting is not judged');
  assert.ok(Math.abs((tooLate.cpu?.median ?? 0) - 1.05) < 1e-9, 'the whole-download ratio is still given');
  // The 20-peer reference's share does not gate the verdict (its real clients may connect late).
  const lateReference = summarizeManyPeers(
    [{ ...result(1, 20, 100, 2), connectedShare: 0.3 }, result(1, 200, 100, 2.1)],
    [20, 200],
  );
  assert.equal(lateReference.allConnected, true);
  assert.equal(lateReference.held, true);
  // Never all connected: no after-connected CPU, and no verdict.
  const never = summarizeManyPeers(
    [
      result(1, 20, 100, 2),
      { round: 1, peers: 200, connected: 150, mibPerSecond: 90, cpuPerGiB: 2.4, connectedShare: 0 },
    ],
    [20, 200],
  );
  assert.equal(never.connectedCpu, undefined);
  assert.equal(never.held, undefined);
  // The steady-state ratio is its own median, not the whole-download one.
  const steady = summarizeManyPeers(
    [result(1, 20, 100, 2), { ...result(1, 200, 100, 2.4), connectedCpuPerGiB: 2.07 }],
    [20, 200],
  );
  assert.ok(Math.abs((steady.connectedCpu?.median ?? 0) - 2.07 / 1.8) < 1e-9);
  assert.equal(steady.held, false, 'judged on the whole download (1.2), not the steady state (1.15)');
});

test('many-peers row: bytes verified by a moment, from piece-verified events (short last piece)', () => {
  const at = (ms: number) => new Date(ms).toISOString();
  const events = [
    { type: 'peer-connected', time: at(1000), address: '127.0.0.2:1' },
    { type: 'piece-verified', time: at(1000), index: 0 },
    { type: 'piece-verified', time: at(1500), index: 3 },
    { type: 'piece-verified', time: at(2000), index: 1 },
    { type: 'piece-verified', time: at(2001), index: 2 },
  ];
  // 4 pieces of 100 bytes, 350 in all: the last piece (3) is 50 bytes.
  assert.equal(verifiedBytesBy(events, 999, 100, 350), 0);
  assert.equal(verifiedBytesBy(events, 1500, 100, 350), 150);
  assert.equal(verifiedBytesBy(events, 2000, 100, 350), 250);
  assert.equal(verifiedBytesBy(events, 5000, 100, 350), 350);
});
