/**
 * Issue 15, "silent connections lock out a seeder": 500 connections from 50 (and from 250)
 * loopback addresses that never send a byte, each re-dialled as soon as the seeder closes it, keep hitting a
 * Lodestone seeder while a real aria2 leecher (which finds the seeder through opentracker and
 * dials it) downloads the torrent. aria2 must complete within an explicit bound, and the
 * seeder's pending-handshake table must never exceed its bound.
 *
 * The seeder runs in this process (so its pending table can be read); the attacker too, on its
 * own source addresses. aria2 runs as its own process. Each case takes about 5 s.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseTorrent } from '../../src/metainfo/index.js';
import { Client } from '../../src/session/client.js';
import {
  nextLoopbackAddress,
  startAria2Leecher,
  waitTrackerListsPeer,
} from '../helpers/real-clients/index.js';
import { requireTool } from '../helpers/tools.js';
import { trackedTorrent } from '../helpers/tracked-torrent.js';

const MiB = 1024 * 1024;
/** The listener's default pending-handshake bound. */
const PENDING_BOUND = 64;
/** aria2 must have every byte within this (loopback, 2 MiB: a few seconds when not locked out). */
const COMPLETE_WITHIN_MS = 30_000;

interface SilentFlood {
  /** Connections opened so far (first dials and re-dials). */
  readonly dialled: number;
  /** Attacker connections open right now. */
  readonly open: number;
  stop(): void;
}

/**
 * `perSource` connections from each of `sources` that connect and say nothing; each is
 * re-dialled (next turn of the event loop) as soon as it is closed, until stop().
 */
function silentFlood(
  target: { host: string; port: number },
  sources: string[],
  perSource: number,
): SilentFlood {
  let stopped = false;
  let dialled = 0;
  const sockets = new Set<Socket>();
  const dial = (localAddress: string): void => {
    if (stopped) return;
    dialled++;
    const socket = connect({ host: target.host, port: target.port, localAddress });
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      sockets.delete(socket);
      setImmediate(() => dial(localAddress));
    });
  };
  for (const source of sources) for (let i = 0; i < perSource; i++) dial(source);
  return {
    get dialled() {
      return dialled;
    },
    get open() {
      return sockets.size;
    },
    stop() {
      stopped = true;
      for (const socket of sockets) socket.destroy();
    },
  };
}

/**
 * 50 addresses × 10 (issue 15's case: more connections per address than its limit), and 250 × 2
 * (more attacking addresses than pending slots, each within its limit).
 */
for (const [ATTACK_SOURCES, ATTACK_PER_SOURCE] of [
  [50, 10],
  [250, 2],
] as const) {
  test(`an aria2 leecher gets its data from a seeder while ${ATTACK_SOURCES * ATTACK_PER_SOURCE} silent connections from ${ATTACK_SOURCES} addresses keep coming`, {
    timeout: 120_000,
  }, async (t) => {
    if (!requireTool(t, 'opentracker') || !requireTool(t, 'aria2c')) return;
    const torrent = await trackedTorrent(t, {
      prefix: 'lodestone-silent-',
      fileName: 'payload.bin',
      size: 2 * MiB,
    });
    const meta = parseTorrent(await readFile(torrent.torrentPath));

    // The seeder announces before aria2 exists, so it never learns aria2's address and dials it:
    // aria2 has to come in through the listener the attacker is flooding.
    const seederHost = nextLoopbackAddress();
    const seeder = new Client({ hashWorkers: 1, port: 0, bindAddress: seederHost });
    t.after(() => seeder.close());
    const port = await seeder.listen();
    const session = seeder.add(meta, { path: torrent.dataDir, seed: true });
    await session.start();
    await waitTrackerListsPeer(torrent.trackerUrl, meta.infoHash, { address: seederHost, port }, 15_000);

    const sources = Array.from({ length: ATTACK_SOURCES }, () => nextLoopbackAddress());
    const flood = silentFlood({ host: seederHost, port }, sources, ATTACK_PER_SOURCE);
    t.after(() => flood.stop());
    // The table is full of silent connections before the honest peer arrives.
    for (let waited = 0; seeder.pendingHandshakes.now < PENDING_BOUND; waited += 20) {
      assert.ok(waited < 10_000, `the flood filled the pending table (${seeder.pendingHandshakes.now})`);
      await sleep(20);
    }
    const dialledBefore = flood.dialled;

    const outDir = join(torrent.work, 'out');
    const leecher = await startAria2Leecher({
      torrentPath: torrent.torrentPath,
      outDir,
      address: nextLoopbackAddress(),
    });
    t.after(() => leecher.stop());
    const started = Date.now();
    try {
      await leecher.waitComplete(COMPLETE_WITHIN_MS);
    } catch (error) {
      const { completedBytes, totalBytes } = await leecher.progress().catch(() => ({
        completedBytes: -1,
        totalBytes: -1,
      }));
      assert.fail(
        `aria2 did not complete within ${COMPLETE_WITHIN_MS} ms under the flood ` +
          `(${completedBytes}/${totalBytes} bytes; pending ${seeder.pendingHandshakes.now}): ${(error as Error).message}`,
      );
    }
    const took = Date.now() - started;
    const dialledDuring = flood.dialled - dialledBefore;
    flood.stop();

    const expected = await readFile(join(torrent.dataDir, 'payload.bin'));
    const got = await readFile(join(outDir, 'payload.bin'));
    assert.ok(got.equals(expected), 'aria2 has the exact bytes');
    const { peak } = seeder.pendingHandshakes;
    assert.ok(peak <= PENDING_BOUND, `pending handshakes peaked at ${peak}, over ${PENDING_BOUND}`);
    // The flood kept coming the whole time: every one of the 500 was re-dialled at least once.
    assert.ok(
      dialledDuring >= ATTACK_SOURCES * ATTACK_PER_SOURCE,
      `only ${dialledDuring} attacker dials during the download`,
    );
    t.diagnostic(
      `aria2 complete in ${took} ms; ${dialledDuring} silent dials meanwhile; peak pending ${peak}`,
    );
  });
}
