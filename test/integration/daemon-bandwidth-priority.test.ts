/**
 * `bandwidthPriority` under a binding global limit: the daemon in-process, two torrents each fed
 * by its own fast loopback seeder, `speed-limit-down` 600 kB/s. The high-priority torrent gets
 * the larger share of the verified bytes over a few seconds (order asserted, with a generous
 * margin, never exact rates); swapped, the other one leads; without the limit both complete
 * byte-exact.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { DaemonTorrent } from '../../src/daemon/daemon-api.js';
import { daemonFixture, randomData, seeding, trackedTorrentOf, until } from '../helpers/daemon-fixture.js';
import { startLodestoneSeeder } from '../helpers/lodestone-seeder.js';

const HOST = '127.0.0.211';
const SEEDER_HOSTS = ['127.0.0.212', '127.0.0.213'];

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Verified bytes each torrent gained over `ms`. */
async function gained(torrents: DaemonTorrent[], ms: number): Promise<number[]> {
  const before = torrents.map((torrent) => torrent.summary().haveValid);
  await delay(ms);
  return torrents.map((torrent, index) => torrent.summary().haveValid - before[index]!);
}

describe('bandwidth priority among torrents', { timeout: 90_000 }, () => {
  test('under a global limit the high-priority torrent gets the larger share', async (t) => {
    const fx = await daemonFixture(t, HOST);
    const torrents: DaemonTorrent[] = [];
    const datas: Buffer[] = [];
    const daemon = await fx.open();
    await daemon.updateSettings({ 'speed-limit-down': 600, 'speed-limit-down-enabled': true });
    for (const [index, host] of SEEDER_HOSTS.entries()) {
      const data = randomData(12 * 1024 * 1024);
      const { meta, bytes } = trackedTorrentOf(`t${index}.bin`, data);
      const seeder = await startLodestoneSeeder({
        meta,
        onDisk: data,
        dir: join(fx.root, `seed-${index}`),
        host,
      });
      t.after(() => seeder.client.close());
      fx.tracker.peers.set(meta.infoHashHex, [seeder.address]);
      const { torrent } = await daemon.add({ source: { kind: 'metainfo', bytes }, paused: true });
      torrents.push(torrent);
      datas.push(data);
    }
    const [a, b] = torrents as [DaemonTorrent, DaemonTorrent];
    await daemon.set([a.id], { bandwidthPriority: 'high' });
    await daemon.set([b.id], { bandwidthPriority: 'low' });
    await daemon.start([a.id, b.id]);
    await until('both downloading', () => a.summary().haveValid > 0 && b.summary().haveValid > 0);
    await delay(1000);
    const [highA, lowB] = (await gained(torrents, 4000)) as [number, number];
    t.diagnostic(`a high ${highA} B, b low ${lowB} B over 4 s`);
    assert.ok(highA > 1.5 * lowB, `high ${highA} should clearly lead low ${lowB}`);

    // Swapped live: b leads now.
    await daemon.set([a.id], { bandwidthPriority: 'low' });
    await daemon.set([b.id], { bandwidthPriority: 'high' });
    await delay(1000);
    const [lowA, highB] = (await gained(torrents, 4000)) as [number, number];
    t.diagnostic(`a low ${lowA} B, b high ${highB} B over 4 s`);
    assert.ok(highB > 1.5 * lowA, `high ${highB} should clearly lead low ${lowA}`);

    await daemon.updateSettings({ 'speed-limit-down-enabled': false });
    await until('both complete', () => seeding(a) && seeding(b), 60_000);
    for (const [index, data] of datas.entries())
      assert.deepEqual(await readFile(join(fx.downloadDir, `t${index}.bin`)), data);
  });
});
