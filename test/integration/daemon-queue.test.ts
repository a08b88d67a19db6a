/**
 * The daemon's queue and seed limits through the library `Daemon` on loopback: a download queue of
 * one over three torrents fed by Lodestone seeders (one at a time, in queue order, byte-exact),
 * "start now" and a queue move over torrents without peers, a ratio limit of 0.5 stopping a seed
 * that uploads to a Lodestone leecher, and an idle limit with the daemon's clock moved on.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { DaemonTorrent } from '../../src/daemon/daemon-api.js';
import { Client } from '../../src/session/client.js';
import { daemonFixture, randomData, seeding, trackedTorrentOf, until } from '../helpers/daemon-fixture.js';
import { startLodestoneSeeder } from '../helpers/lodestone-seeder.js';

const HOST = '127.0.0.71';
const SEEDER_HOST = '127.0.0.72';
const LEECHER_HOST = '127.0.0.73';

const QUEUE_OF_ONE = {
  'download-queue-enabled': true,
  'download-queue-size': 1,
  'queue-stalled-enabled': false,
};

describe('the daemon queue and seed limits', { timeout: 90_000 }, () => {
  test('download-queue-size 1: one downloads at a time, the others wait, all complete in queue order', async (t) => {
    const fx = await daemonFixture(t, HOST);
    const items: { name: string; data: Buffer; bytes: Uint8Array }[] = [];
    for (const name of ['q1.bin', 'q2.bin', 'q3.bin']) {
      const data = randomData(1024 * 1024 + 333);
      const { meta, bytes } = trackedTorrentOf(name, data);
      const seeder = await startLodestoneSeeder({
        meta,
        onDisk: data,
        dir: join(fx.root, `seed-${name}`),
        host: SEEDER_HOST,
      });
      t.after(() => seeder.client.close());
      fx.tracker.peers.set(meta.infoHashHex, [seeder.address]);
      items.push({ name, data, bytes });
    }
    const daemon = await fx.open();
    await daemon.updateSettings(QUEUE_OF_ONE);
    const torrents: DaemonTorrent[] = [];
    // Added paused, then started together: the first could complete while the others are added.
    for (const item of items)
      torrents.push(
        (await daemon.add({ source: { kind: 'metainfo', bytes: item.bytes }, paused: true })).torrent,
      );
    await daemon.start(undefined);
    const statuses = () => torrents.map((torrent) => torrent.summary().status);
    // The first waits for its check's turn (status 1) until the check reports (2).
    assert.deepEqual(statuses(), ['check-wait', 'download-wait', 'download-wait']);
    const completed: number[] = [];
    let mostActive = 0;
    await until(
      'all three complete',
      () => {
        const now = statuses();
        mostActive = Math.max(
          mostActive,
          now.filter((s) => s === 'downloading' || s === 'checking' || s === 'check-wait').length,
        );
        now.forEach((s, index) => {
          if (s === 'seeding' && !completed.includes(index)) completed.push(index);
        });
        return completed.length === 3;
      },
      60_000,
    );
    assert.equal(mostActive, 1, 'never more than one downloading');
    assert.deepEqual(completed, [0, 1, 2], 'completed in queue order');
    for (const item of items) assert.deepEqual(await readFile(join(fx.downloadDir, item.name)), item.data);
  });

  test('start now bypasses the queue; a queue move decides which waiting torrent gets the freed slot', async (t) => {
    const fx = await daemonFixture(t, HOST);
    const daemon = await fx.open();
    await daemon.updateSettings(QUEUE_OF_ONE);
    // No peers anywhere: each stays downloading (or waiting) until told otherwise.
    const added: DaemonTorrent[] = [];
    for (const name of ['a.bin', 'b.bin', 'c.bin']) {
      const { bytes } = trackedTorrentOf(name, randomData(64 * 1024));
      added.push((await daemon.add({ source: { kind: 'metainfo', bytes } })).torrent);
    }
    const [a, b, c] = added;
    // Each add checks its (missing) data first, then joins the queue (as Transmission).
    const status = () => added.map((torrent) => torrent.summary().status);
    await until(
      'a downloading, b and c waiting',
      () => status().join() === 'downloading,download-wait,download-wait',
    );

    await daemon.queueMove([c!.id], 'top');
    assert.deepEqual(
      daemon.torrents().map((torrent) => [torrent.id, torrent.summary().queuePosition]),
      [
        [c!.id, 0],
        [a!.id, 1],
        [b!.id, 2],
      ],
    );
    assert.equal(a!.summary().status, 'downloading', 'a running torrent keeps its slot');
    await daemon.stop([a!.id]);
    await until('c, now first, takes the slot', () => c!.summary().status === 'downloading');
    assert.equal(b!.summary().status, 'download-wait');
    assert.equal(a!.summary().status, 'stopped');

    await daemon.start([b!.id], { now: true });
    await until('b started at once', () => b!.summary().status === 'downloading');
    assert.equal(c!.summary().status, 'downloading', 'start now takes no slot');
    // A plain start waits for a slot.
    await daemon.start([a!.id]);
    assert.equal(a!.summary().status, 'download-wait');
    await daemon.stop([c!.id]);
    await until('a gets the slot c freed', () => a!.summary().status === 'downloading');
  });

  test('ratio-limit 0.5: a seed uploading to a Lodestone leecher stops once it uploaded half its size', async (t) => {
    const fx = await daemonFixture(t, HOST);
    const data = randomData(1024 * 1024);
    const { meta, bytes } = trackedTorrentOf('ratio.bin', data);
    await mkdir(fx.downloadDir, { recursive: true });
    await writeFile(join(fx.downloadDir, 'ratio.bin'), data);
    const daemon = await fx.open();
    // Slow enough for the one-second check to catch it well before the whole file is sent.
    await daemon.updateSettings({
      'ratio-limit-enabled': true,
      'ratio-limit': 0.5,
      'speed-limit-up-enabled': true,
      'speed-limit-up': 200,
    });
    const { torrent } = await daemon.add({ source: { kind: 'metainfo', bytes } });
    await until('seeding', () => seeding(torrent));
    assert.equal(torrent.summary().isFinished, false);

    const leecher = new Client({ hashWorkers: 1, port: 0, bindAddress: LEECHER_HOST });
    t.after(() => leecher.close());
    await leecher.listen();
    const session = leecher.add(meta, {
      path: join(fx.root, 'leech'),
      useTrackers: false,
      peers: [{ host: HOST, port: daemon.client.port }],
    });
    await session.start();
    await until('the seed stops at its ratio', () => torrent.summary().status === 'stopped', 30_000);
    const summary = torrent.summary();
    assert.equal(summary.isFinished, true);
    assert.ok(summary.uploadedEver >= data.length / 2, `uploaded ${summary.uploadedEver} ≥ half`);
    assert.ok(session.have.count < meta.pieceCount, 'stopped before the leecher had everything');
    assert.ok(fx.logs.some((line) => /seed ratio reached/.test(line.message)));
    // A user start past the ratio turns the torrent's ratio limit off, so it seeds on.
    await daemon.start([torrent.id]);
    assert.equal(torrent.summary().settings.seedRatioMode, 'unlimited');
    await until('seeding again', () => seeding(torrent));
  });
  test('idle-seeding-limit 1 minute (the daemon clock moved on): an idle seed stops, isFinished until started again', async (t) => {
    const fx = await daemonFixture(t, HOST);
    const data = randomData(64 * 1024);
    const { bytes } = trackedTorrentOf('idle.bin', data);
    await mkdir(fx.downloadDir, { recursive: true });
    await writeFile(join(fx.downloadDir, 'idle.bin'), data);
    let offset = 0;
    const daemon = await fx.open({ now: () => Date.now() + offset });
    await daemon.updateSettings({ 'idle-seeding-limit-enabled': true, 'idle-seeding-limit': 1 });
    const { torrent } = await daemon.add({ source: { kind: 'metainfo', bytes } });
    await until('seeding', () => seeding(torrent));
    offset = 50_000;
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    assert.equal(torrent.summary().status, 'seeding', 'not idle for a minute yet');
    offset = 61_000;
    await until('the idle seed stops', () => torrent.summary().status === 'stopped', 5_000);
    assert.equal(torrent.summary().isFinished, true);
    assert.ok(fx.logs.some((line) => /seed idle limit reached/.test(line.message)));
    await daemon.start([torrent.id]);
    assert.equal(torrent.summary().isFinished, false);
    await until('seeding again', () => seeding(torrent));
  });
  test('a restart tries again a torrent a local error had stopped (the queue alone would leave it)', async (t) => {
    const fx = await daemonFixture(t, HOST);
    const data = randomData(64 * 1024);
    const { meta, bytes } = trackedTorrentOf('again.bin', data);
    await mkdir(fx.downloadDir, { recursive: true });
    await writeFile(join(fx.downloadDir, 'again.bin'), data);
    const first = await fx.open();
    const { torrent } = await first.add({ source: { kind: 'metainfo', bytes } });
    await until('seeding', () => seeding(torrent));
    await first.close();
    // As a disk error in the last run would have left it.
    const file = join(fx.stateDir, 'torrents', `${meta.infoHashHex}.json`);
    const saved = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    await writeFile(file, JSON.stringify({ ...saved, error: { kind: 'local', message: 'disk full' } }));
    const second = await fx.open();
    const [again] = second.torrents();
    await until('seeding after the restart', () => seeding(again!));
    assert.equal(again!.summary().error, undefined);
  });
});
