/**
 * Speed limits through the real `lodestone daemon` (the CLI bundle), set over its RPC, against a
 * fast loopback seeder (an in-process Lodestone client): `speed-limit-down` 2000 kB/s gives a
 * measured rate (verified bytes, `haveValid`, sampled over 10 s after a warm-up) within ±10%;
 * turtle mode (`alt-speed-enabled`) switches to `alt-speed-down` (1000 kB/s), measured the same
 * way. Transmission's kB is 1000 bytes.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { type DaemonProcess, eventually, startDaemonProcess } from '../helpers/daemon-process.js';
import { startDaemonSwarm } from '../helpers/daemon-swarm.js';
import { requireTool } from '../helpers/tools.js';

const DAEMON_HOST = '127.0.0.75';
const SEEDER_HOST = '127.0.0.76';

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function haveValid(daemon: DaemonProcess, hash: string): Promise<number> {
  const { torrents } = await daemon.rpc<{ torrents: { haveValid: number }[] }>('torrent-get', {
    ids: [hash],
    fields: ['haveValid'],
  });
  return torrents[0]!.haveValid;
}

/** Bytes per second verified between two samples `seconds` apart (wall clock, measured). */
async function measure(daemon: DaemonProcess, hash: string, seconds: number): Promise<number> {
  const startBytes = await haveValid(daemon, hash);
  const start = performance.now();
  await delay(seconds * 1000);
  const endBytes = await haveValid(daemon, hash);
  return (endBytes - startBytes) / ((performance.now() - start) / 1000);
}

describe('speed limits through the lodestone daemon', { timeout: 60_000 }, () => {
  test('speed-limit-down and turtle mode hold within ±10%', async (t) => {
    if (!requireTool(t, 'mktorrent') || !requireTool(t, 'opentracker')) return;
    const work = await mkdtemp(join(tmpdir(), 'daemon-rates-'));
    t.after(() => rm(work, { recursive: true, force: true }));
    const swarm = await startDaemonSwarm(t, work, SEEDER_HOST, [
      { name: 'big.bin', files: [{ path: 'big.bin', size: 40_000_000 }], pieceLengthExp: 16 },
    ]);
    const big = swarm.torrents[0]!;
    const daemon = await startDaemonProcess(t, {
      stateDir: join(work, 'state'),
      downloadDir: join(work, 'downloads'),
      host: DAEMON_HOST,
    });
    await daemon.rpc('session-set', {
      'speed-limit-down': 2000,
      'speed-limit-down-enabled': true,
      'alt-speed-down': 1000,
      'alt-speed-up': 1000,
    });
    const session = await daemon.rpc<Record<string, unknown>>('session-get');
    assert.equal(session['speed-limit-down'], 2000);
    assert.equal(session['speed-limit-down-enabled'], true);
    await daemon.rpc('torrent-add', { metainfo: (await readFile(big.torrentPath)).toString('base64') });
    const hash = big.facts.infoHashHex;
    await eventually('downloading', async () => (await haveValid(daemon, hash)) > 0, 20_000);
    await delay(2000); // warm-up: the bucket's burst and the first requests
    const limited = await measure(daemon, hash, 10);
    t.diagnostic(`speed-limit-down 2000 kB/s: measured ${(limited / 1000).toFixed(0)} kB/s`);
    assert.ok(Math.abs(limited - 2_000_000) <= 200_000, `measured ${limited} B/s, want 2,000,000 ±10%`);

    await daemon.rpc('session-set', { 'alt-speed-enabled': true });
    assert.equal((await daemon.rpc<Record<string, unknown>>('session-get'))['alt-speed-enabled'], true);
    await delay(2000);
    const turtle = await measure(daemon, hash, 6);
    t.diagnostic(`turtle (alt-speed-down 1000 kB/s): measured ${(turtle / 1000).toFixed(0)} kB/s`);
    assert.ok(Math.abs(turtle - 1_000_000) <= 100_000, `measured ${turtle} B/s, want 1,000,000 ±10%`);
    assert.ok((await haveValid(daemon, hash)) < big.facts.totalLength, 'still downloading: the limits held');
    assert.equal((await daemon.stop()).code, 0);
  });
});
