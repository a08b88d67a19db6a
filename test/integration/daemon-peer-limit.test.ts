/**
 * A torrent's own `peer-limit` (torrent-set `peer-limit`, `TorrentPatch.peerLimit`) bounds its
 * connections in the running session: the daemon in-process over six loopback seeders, the
 * torrent first at 4 (it uses more than 2), then lowered live to 2 (the surplus is closed at
 * once) while more peers dial in; it never holds more than 2 again and completes byte-exact.
 * And, through the RPC, a torrent's `peer-limit` may be above `peer-limit-per-torrent` (only the
 * default for new torrents, as in Transmission): per-torrent 2, the torrent's own 5, six seeders.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { startRpcServer } from '../../src/daemon/index.js';
import { Client } from '../../src/session/client.js';
import { daemonFixture, randomData, seeding, trackedTorrentOf, until } from '../helpers/daemon-fixture.js';
import { transmissionRpc } from '../helpers/daemon-process.js';
import { startLodestoneSeeder } from '../helpers/lodestone-seeder.js';

const HOST = '127.0.0.201';
const SEEDER_HOSTS = [
  '127.0.0.202',
  '127.0.0.203',
  '127.0.0.204',
  '127.0.0.205',
  '127.0.0.206',
  '127.0.0.207',
];
const DIALER_HOSTS = ['127.0.0.208', '127.0.0.209'];

describe("a torrent's own peer limit", { timeout: 60_000 }, () => {
  test('peer-limit 2 keeps at most 2 connections among 6 seeders and 2 dialers', async (t) => {
    const fx = await daemonFixture(t, HOST);
    const data = randomData(2 * 1024 * 1024);
    const { meta, bytes } = trackedTorrentOf('swarm.bin', data);
    const seeders = [];
    for (const [index, host] of SEEDER_HOSTS.entries()) {
      const seeder = await startLodestoneSeeder({
        meta,
        onDisk: data,
        dir: join(fx.root, `seed-${index}`),
        host,
      });
      t.after(() => seeder.client.close());
      seeders.push(seeder.address);
    }
    fx.tracker.peers.set(meta.infoHashHex, seeders);
    const daemon = await fx.open();
    const { torrent } = await daemon.add({ source: { kind: 'metainfo', bytes }, paused: true });
    // Slow enough to watch: 2 MiB at 250 kB/s.
    await daemon.set([torrent.id], { peerLimit: 4, downloadLimit: 250_000 });
    await daemon.start([torrent.id]);
    await until('more than 2 peers', () => torrent.summary().peersConnected > 2);

    await daemon.set([torrent.id], { peerLimit: 2 });
    // The surplus is closed at once (the close is under way when `set` returns).
    await until('down to 2 peers', () => torrent.summary().peersConnected <= 2, 2_000);
    // Others dial in: refused while the torrent is full.
    for (const host of DIALER_HOSTS) {
      const dialer = new Client({ hashWorkers: 1, port: 0, bindAddress: host });
      t.after(() => dialer.close());
      await dialer.listen();
      const session = dialer.add(
        { ...meta, announceTiers: [] },
        { path: join(fx.root, `dialer-${host}`), peers: [{ host: HOST, port: daemon.client.port }] },
      );
      await session.start();
    }
    let most = 0;
    const watch = setInterval(() => {
      most = Math.max(most, torrent.summary().peersConnected);
    }, 10);
    t.after(() => clearInterval(watch));
    await until('the download', () => seeding(torrent), 30_000);
    clearInterval(watch);
    assert.ok(most <= 2, `at most 2 peers after the limit, saw ${most}`);
    assert.equal(torrent.summary().settings.peerLimit, 2);
    assert.deepEqual(await readFile(join(fx.downloadDir, 'swarm.bin')), data);
  });

  test('over RPC: peer-limit 5 on a torrent while peer-limit-per-torrent is 2 lets it use 5 of 6 seeders', async (t) => {
    const fx = await daemonFixture(t, HOST);
    const data = randomData(2 * 1024 * 1024);
    const { meta, bytes } = trackedTorrentOf('wide.bin', data);
    const seeders = [];
    for (const [index, host] of SEEDER_HOSTS.entries()) {
      const seeder = await startLodestoneSeeder({
        meta,
        onDisk: data,
        dir: join(fx.root, `seed-${index}`),
        host,
      });
      t.after(() => seeder.client.close());
      seeders.push(seeder.address);
    }
    fx.tracker.peers.set(meta.infoHashHex, seeders);
    const daemon = await fx.open();
    const server = await startRpcServer(daemon, { configDir: fx.stateDir });
    t.after(() => server.close());
    const rpc = transmissionRpc(`http://127.0.0.1:${server.port}/transmission/rpc`);

    await rpc('session-set', { 'peer-limit-per-torrent': 2, 'peer-limit-global': 200 });
    const added = await rpc<{ 'torrent-added': { id: number } }>('torrent-add', {
      metainfo: Buffer.from(bytes).toString('base64'),
      paused: true,
    });
    const id = added['torrent-added'].id;
    // Slow enough to watch (2 MiB at 100 kB/s); the torrent's own limit above the per-torrent one.
    await rpc('torrent-set', { ids: [id], 'peer-limit': 5, downloadLimit: 100, downloadLimited: true });
    const got = await rpc<{ torrents: { maxConnectedPeers: number }[] }>('torrent-get', {
      ids: [id],
      fields: ['maxConnectedPeers'],
    });
    assert.equal(got.torrents[0]!.maxConnectedPeers, 5, 'kept as asked, not clamped to 2');
    await rpc('torrent-start', { ids: [id] });
    const [torrent] = daemon.torrents([id]);
    let most = 0;
    const watch = setInterval(() => {
      most = Math.max(most, torrent!.summary().peersConnected);
    }, 10);
    t.after(() => clearInterval(watch));
    await until('5 peers', () => torrent!.summary().peersConnected >= 5, 20_000);
    const shown = await rpc<{ torrents: { peersConnected: number }[] }>('torrent-get', {
      ids: [id],
      fields: ['peersConnected'],
    });
    assert.ok(
      shown.torrents[0]!.peersConnected > 2,
      `above peer-limit-per-torrent: ${shown.torrents[0]!.peersConnected}`,
    );
    // Six seeders are there: the torrent's own limit still holds.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    clearInterval(watch);
    assert.ok(most <= 5, `at most its own 5, saw ${most}`);
    assert.equal(daemon.settings()['peer-limit-per-torrent'], 2);
  });
});
