import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type DownloadRecord, ratios, renderMarkdown } from '../../../bench/report.js';
import { evaluateTargets } from '../../../bench/targets.js';

const OTHERS = 'aria2+qbittorrent+transmission';
const HOME = 'aria2+qbittorrent+transmission+lodestone';

function record(
  seeders: string,
  leecher: string,
  round: number,
  mibPerSecond: number,
  rss = 80,
): DownloadRecord {
  return {
    phase: 'swarm',
    seeders,
    leecher,
    source: 'torrent',
    round,
    ok: true,
    mibPerSecond,
    cpuSeconds: 3,
    peakRssMiB: rss,
  };
}

/** On the swarm of other clients Lodestone is 1.1× aria2; with its own seeder, 3×. */
const records: DownloadRecord[] = [1, 2, 3].flatMap((round) => [
  record(OTHERS, 'lodestone', round, 110),
  record(OTHERS, 'aria2', round, 100),
  record(OTHERS, 'webtorrent', round, 50, 200),
  record(HOME, 'lodestone', round, 300),
  record(HOME, 'aria2', round, 100),
  record(HOME, 'webtorrent', round, 50, 200),
]);

test('swarm ratios are computed per swarm: the Lodestone-seeder rows never mix with the others', () => {
  const swarm = ratios(records, 'swarm');
  const aria2 = (seeders: string) => swarm.find((r) => r.seeders === seeders && r.other === 'aria2');
  assert.equal(aria2(OTHERS)?.throughput?.median, 1.1);
  assert.equal(aria2(OTHERS)?.throughput?.n, 3);
  assert.equal(aria2(HOME)?.throughput?.median, 3);
});

test('targets are judged on the swarm without a Lodestone seeder only', () => {
  const results = evaluateTargets(ratios(records, 'swarm'));
  assert.ok(results.length > 0);
  assert.ok(results.every((r) => r.seeders === OTHERS));
  const byTarget = new Map(results.map((r) => [r.target, r]));
  // 1.1× aria2 misses ≥ 1.25× even though the Lodestone-seeder swarm shows 3×.
  assert.equal(byTarget.get('throughput ≥ 1.25× aria2')?.met, false);
  assert.equal(byTarget.get('throughput ≥ 1.5× WebTorrent')?.met, true);
  assert.equal(byTarget.get('CPU per GiB ≤ aria2')?.met, true);
  assert.equal(byTarget.get('peak RSS ≤ 0.5× WebTorrent')?.met, true);
});

test('a target met by the median but not in every round says so', () => {
  const mixed = [
    ...[1, 2, 3].map((round) => record(OTHERS, 'lodestone', round, [140, 130, 110][round - 1]!)),
    ...[1, 2, 3].map((round) => record(OTHERS, 'aria2', round, 100)),
  ];
  const [result] = evaluateTargets(ratios(mixed, 'swarm')).filter(
    (r) => r.target.includes('aria2') && r.target.startsWith('throughput'),
  );
  assert.equal(result?.met, true);
  assert.equal(result?.everyRound, false);
});

test('the Markdown report shows the two swarms as separate sections, the targets under their own heading', () => {
  const markdown = renderMarkdown({
    startedAt: '2026-01-01T00:00:00.000Z',
    machine: { cpu: 'cpu', cores: 2, memoryGiB: 4, node: '20', loadAverageAtStart: [0, 0, 0] },
    config: {},
    versions: {},
    notes: [],
    records,
    micro: [],
  });
  const others = markdown.indexOf(`## Swarm of other clients: ${OTHERS}`);
  const home = markdown.indexOf(`## Swarm with a Lodestone seeder: ${HOME}`);
  const targets = markdown.indexOf('## Targets (judged on the swarm without a Lodestone seeder)');
  assert.ok(others >= 0 && home > others && targets > home, markdown);
  assert.match(markdown.slice(targets), /throughput ≥ 1\.25× aria2 \| torrent \| 1\.10 \| \*\*no\*\*/);
});
