import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../../../bench/config.js';
import { renderScale, type ScaleRowInfo } from '../../../bench/scale-row.js';

test('scale row: part of the default and quick rows, 1,000 torrents full and 200 quick', () => {
  const full = parseConfig([]);
  const quick = parseConfig(['--quick']);
  assert.ok(full?.rows.includes('scale'));
  assert.ok(quick?.rows.includes('scale'));
  assert.equal(full?.scaleTorrents, 1000);
  assert.equal(quick?.scaleTorrents, 200);
  assert.equal(full?.scaleIdleSeconds, 20);
  assert.equal(quick?.scaleIdleSeconds, 5);
  assert.equal(parseConfig(['--scale-torrents', '50'])?.scaleTorrents, 50);
});

const info = (lodestone: Partial<ScaleRowInfo['results'][number]>): ScaleRowInfo => ({
  torrents: 1000,
  totalSize: '330 MiB',
  idleSeconds: 20,
  results: [
    {
      client: 'lodestone',
      side: 'daemon',
      torrents: 1000,
      addSeconds: 8,
      firstStartSeconds: 4,
      restartSeconds: 1,
      restartPiecesHashed: 0,
      rssMiB: 200,
      peakRssMiB: 250,
      idleCpuPercent: 1,
      openFiles: 40,
      ...lodestone,
    },
    {
      client: 'transmission',
      torrents: 1000,
      addSeconds: 2,
      firstStartSeconds: 100,
      restartSeconds: 0.5,
      rssMiB: 40,
      peakRssMiB: 50,
      idleCpuPercent: 0.5,
      openFiles: 20,
    },
  ],
});

test('scale row: ratios to Transmission and the three targets judged', () => {
  const held = renderScale(info({})).join('\n');
  assert.match(
    held,
    /\| lodestone daemon ÷ Transmission \| {2}\| 4\.00× \| 0\.04× \| 2\.00× \| {2}\| 5\.00× \| 5\.00× \| 2\.00× \|/,
  );
  assert.match(held, /\| lodestone daemon \| ok \| 8\.00 \| 4\.00 \| 1\.00 \| 0 \|/);
  assert.match(held, /\| transmission-daemon \| ok \| 2\.00 \| 100 \|/);
  const client = renderScale(info({ side: 'client', addSeconds: undefined })).join('\n');
  assert.match(client, /\| lodestone Client \| ok \| – \| 4\.00 \|/);
  assert.match(held, /RSS ≤ 300 MiB \(held\), idle CPU ≤ 2 % \(held\), restart ≤ 5 s \(held\)\./);
  const missed = renderScale(info({ rssMiB: 301, idleCpuPercent: 2.5, restartSeconds: 6 })).join('\n');
  assert.match(
    missed,
    /RSS ≤ 300 MiB \(\*\*missed\*\*\), idle CPU ≤ 2 % \(\*\*missed\*\*\), restart ≤ 5 s \(\*\*missed\*\*\)/,
  );
  const failed = renderScale(info({ error: 'exited (1)' })).join('\n');
  assert.match(failed, /\*\*failed\*\*: exited \(1\)/);
  assert.doesNotMatch(failed, /Targets/);
  assert.deepEqual(renderScale(undefined), []);
});

test('npm run bench takes --scale-side daemon|client|both (default: the daemon)', () => {
  assert.deepEqual(parseConfig([])?.scaleSides, ['daemon']);
  assert.deepEqual(parseConfig(['--scale-side', 'client'])?.scaleSides, ['client']);
  assert.deepEqual(parseConfig(['--scale-side', 'both'])?.scaleSides, ['daemon', 'client']);
  assert.throws(() => parseConfig(['--scale-side', 'transmission']), /--scale-side daemon\|client\|both/);
});
