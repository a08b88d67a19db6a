/**
 * The daemon in-process, on loopback, fed by Lodestone seeders: add a .torrent and a magnet (both
 * complete byte-exact), stop/start without re-hashing, remove with data (a sibling file survives),
 * setLocation with move, and a restart on the same state folder (torrents back, paused stays
 * paused, complete ones hash no piece, a corrupt state file skipped with a warning).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { Daemon } from '../../src/daemon/daemon.js';
import { DaemonError } from '../../src/errors.js';
import { formatMagnet } from '../../src/metainfo/magnet.js';
import {
  daemonFixture,
  FAKE_TRACKER,
  randomData,
  seeding,
  trackedTorrentOf,
  until,
} from '../helpers/daemon-fixture.js';
import { type LodestoneSeeder, startLodestoneSeeder } from '../helpers/lodestone-seeder.js';

const HOST = '127.0.0.61';
const SEEDER_HOST = '127.0.0.62';

async function seederFor(
  t: { after(fn: () => Promise<void>): void },
  root: string,
  name: string,
  size: number,
): Promise<{ seeder: LodestoneSeeder; data: Buffer; bytes: Uint8Array; hash: string }> {
  const data = randomData(size);
  const { meta, bytes } = trackedTorrentOf(name, data);
  const seeder = await startLodestoneSeeder({
    meta,
    onDisk: data,
    dir: join(root, `seed-${name}`),
    host: SEEDER_HOST,
  });
  t.after(() => seeder.client.close());
  return { seeder, data, bytes, hash: meta.infoHashHex };
}

function readyCount(daemon: Daemon): { hashed: Map<string, number> } {
  const hashed = new Map<string, number>();
  daemon.on('torrent-ready', ({ hash, piecesHashed }) => hashed.set(hash, piecesHashed));
  return { hashed };
}

describe('the daemon over one client', { timeout: 90_000 }, () => {
  test('a .torrent completes byte-exact; stop/start re-hashes nothing; remove with data deletes only its file', async (t) => {
    const fx = await daemonFixture(t, HOST);
    const { seeder, data, bytes, hash } = await seederFor(t, fx.root, 'alpha.bin', 200 * 1024 + 17);
    fx.tracker.peers.set(hash, [seeder.address]);
    const daemon = await fx.open();
    const ready = readyCount(daemon);
    const { torrent, duplicate } = await daemon.add({ source: { kind: 'metainfo', bytes } });
    assert.equal(duplicate, false);
    assert.equal(torrent.id, 1);
    await until('the download', () => seeding(torrent));
    assert.deepEqual(await readFile(join(fx.downloadDir, 'alpha.bin')), data);
    const done = torrent.summary();
    assert.equal(done.percentDone, 1);
    assert.equal(done.leftUntilDone, 0);
    assert.equal(done.downloadedEver, data.length);
    assert.ok(done.doneDate > 0, 'doneDate set');
    assert.equal(torrent.files()[0]?.bytesCompleted, data.length);
    assert.equal((await daemon.add({ source: { kind: 'metainfo', bytes } })).duplicate, true);
    const [tracker] = torrent.trackers();
    assert.equal(tracker?.announce, FAKE_TRACKER);
    assert.equal(tracker?.host, 'http://127.0.0.1:9');
    assert.equal(tracker?.lastAnnounceSucceeded, true);
    assert.equal(tracker?.lastAnnouncePeerCount, 1);
    const pieces = torrent.pieces();
    assert.equal(pieces.length, Math.ceil(done.pieceCount / 8));
    assert.equal(pieces[0], 0xff, 'verified pieces in the bitfield');

    await daemon.stop([1]);
    assert.equal(torrent.summary().status, 'stopped');
    assert.ok(
      fx.tracker.announces.some((a) => a.infoHash === hash && a.event === 'stopped'),
      'tracker told stopped',
    );
    ready.hashed.clear();
    await daemon.start([hash.toUpperCase()]);
    await until('the restart', () => seeding(torrent));
    assert.equal(ready.hashed.get(hash), 0, 'a verified torrent restarts without hashing');
    assert.equal(torrent.summary().downloadedEver, data.length, 'totals survive the stop');

    const sibling = join(fx.downloadDir, 'keep-me.txt');
    await writeFile(sibling, 'not the torrent');
    await daemon.remove([1], { deleteData: true });
    assert.equal(daemon.torrents().length, 0);
    assert.equal(existsSync(join(fx.downloadDir, 'alpha.bin')), false, 'its file is gone');
    assert.equal(await readFile(sibling, 'utf8'), 'not the torrent', 'nothing else is touched');
    assert.equal(existsSync(join(fx.stateDir, 'torrents', `${hash}.json`)), false);
    assert.deepEqual(daemon.recentlyRemoved(), [1]);
  });

  test('a magnet with x.pe fetches its metadata, then completes byte-exact', async (t) => {
    const fx = await daemonFixture(t, HOST);
    const { seeder, data, hash } = await seederFor(t, fx.root, 'beta.bin', 150 * 1024 + 5);
    const daemon = await fx.open();
    const uri = formatMagnet({
      infoHash: Buffer.from(hash, 'hex'),
      infoHashHex: hash,
      name: 'beta',
      trackers: [],
      peers: [seeder.address],
      webSeeds: [],
    });
    const { torrent } = await daemon.add({ source: { kind: 'magnet', uri } });
    const early = torrent.summary();
    assert.equal(early.name === 'beta' || early.hasMetadata, true);
    await until('the magnet download', () => seeding(torrent));
    assert.deepEqual(await readFile(join(fx.downloadDir, 'beta.bin')), data);
    assert.equal(torrent.summary().hasMetadata, true);
    assert.ok(
      existsSync(join(fx.stateDir, 'torrents', `${hash}.torrent`)),
      'the metadata is kept as a .torrent',
    );
  });

  test('setLocation with move: the file moves, the torrent seeds there without re-hashing; without move it only points elsewhere', async (t) => {
    const fx = await daemonFixture(t, HOST);
    const { seeder, data, bytes, hash } = await seederFor(t, fx.root, 'gamma.bin', 100 * 1024);
    fx.tracker.peers.set(hash, [seeder.address]);
    const daemon = await fx.open();
    const ready = readyCount(daemon);
    const { torrent } = await daemon.add({ source: { kind: 'metainfo', bytes } });
    await until('the download', () => seeding(torrent));
    ready.hashed.clear();
    const target = join(fx.root, 'elsewhere');
    await daemon.setLocation([torrent.id], target, { move: true });
    assert.equal(existsSync(join(fx.downloadDir, 'gamma.bin')), false, 'moved away');
    assert.deepEqual(await readFile(join(target, 'gamma.bin')), data);
    await until('seeding at the new place', () => seeding(torrent));
    assert.equal(torrent.summary().downloadDir, target);
    assert.equal(ready.hashed.get(hash), 0, 'the record followed the move');

    // Without move: it only points elsewhere (nothing there), checks, and downloads it there again.
    await daemon.setLocation([torrent.id], fx.downloadDir, { move: false });
    assert.deepEqual(await readFile(join(target, 'gamma.bin')), data, 'the files stay where they are');
    await until('the download at the old place', () => seeding(torrent));
    assert.deepEqual(await readFile(join(fx.downloadDir, 'gamma.bin')), data);
    assert.equal(torrent.summary().downloadDir, fx.downloadDir);
  });

  test('verify re-hashes every piece; queue moves, settings updates, free space, bad renames refused', async (t) => {
    const fx = await daemonFixture(t, HOST);
    const one = await seederFor(t, fx.root, 'v1.bin', 64 * 1024 + 9);
    const two = await seederFor(t, fx.root, 'v2.bin', 32 * 1024);
    fx.tracker.peers.set(one.hash, [one.seeder.address]);
    fx.tracker.peers.set(two.hash, [two.seeder.address]);
    const daemon = await fx.open();
    const ready = readyCount(daemon);
    const a = (await daemon.add({ source: { kind: 'metainfo', bytes: one.bytes } })).torrent;
    const torrentFile = join(fx.root, 'v2.torrent');
    await writeFile(torrentFile, two.bytes);
    const b = (await daemon.add({ source: { kind: 'file', path: torrentFile }, paused: true })).torrent;
    assert.equal(b.summary().name, 'v2.bin');
    await assert.rejects(
      daemon.add({ source: { kind: 'file', path: join(fx.root, 'missing.torrent') } }),
      /cannot read/,
    );
    await assert.rejects(
      daemon.add({ source: { kind: 'metainfo', bytes: new Uint8Array([1, 2]) } }),
      DaemonError,
    );
    await until('the download', () => seeding(a));
    ready.hashed.clear();
    await daemon.verify([a.id]);
    assert.ok(['check-wait', 'checking'].includes(a.summary().status), a.summary().status);
    await until('the check', () => ready.hashed.has(one.hash) && seeding(a));
    assert.equal(
      ready.hashed.get(one.hash),
      a.summary().pieceCount,
      'every piece hashed, the record ignored',
    );

    await daemon.verify([b.id]);
    await until('the paused torrent checked', () => ready.hashed.has(two.hash));
    await until('stopped again', () => b.summary().status === 'stopped');
    assert.equal(b.summary().percentDone, 0);

    await daemon.queueMove([b.id], 'top');
    assert.deepEqual(
      daemon.torrents().map((torrent) => torrent.id),
      [b.id, a.id],
    );
    assert.deepEqual(
      daemon.torrents().map((torrent) => torrent.summary().queuePosition),
      [0, 1],
    );
    await assert.rejects(daemon.set([a.id], { peerLimit: -1 }), DaemonError);
    await assert.rejects(daemon.renamePath(a.id, 'v1.bin', '../x.bin'), /invalid new name/);
    await assert.rejects(daemon.renamePath(a.id, 'nothere.bin', 'x.bin'), /no file or folder/);
    await assert.rejects(daemon.renamePath(99, 'v1.bin', 'x.bin'), /no torrent 99/);
    // Two renames at once: the second is refused while the first is under way.
    const both = await Promise.allSettled([
      daemon.renamePath(a.id, 'v1.bin', 'x.bin'),
      daemon.renamePath(a.id, 'v1.bin', 'y.bin'),
    ]);
    assert.deepEqual(
      both.map((result) => result.status),
      ['fulfilled', 'rejected'],
    );
    assert.match(String((both[1] as PromiseRejectedResult).reason), /busy/);
    assert.equal(a.summary().name, 'x.bin');
    assert.deepEqual(await readFile(join(fx.downloadDir, 'x.bin')), one.data);
    assert.equal(existsSync(join(fx.downloadDir, 'v1.bin')), false);
    const space = await daemon.freeSpace(fx.downloadDir);
    assert.ok(space.totalBytes > 0 && space.freeBytes >= 0 && space.freeBytes <= space.totalBytes);
    await daemon.reannounce(undefined);

    const update = await daemon.updateSettings({
      'download-dir': join(fx.root, 'new'),
      'peer-port': 7000,
      'lpd-enabled': true,
      'speed-limit-down': 10,
      'pex-enabled': false,
      'x-y': 1,
    });
    assert.deepEqual(update, {
      applied: ['download-dir', 'speed-limit-down'],
      atRestart: ['peer-port'],
      unsupported: ['lpd-enabled', 'pex-enabled'],
      unknown: ['x-y'],
    });
    assert.equal(daemon.settings()['lpd-enabled'], false, 'kept off');
    await assert.rejects(
      daemon.updateSettings({ 'peer-port': 'x', 'download-dir': '/nowhere' }),
      /peer-port must be/,
    );
    assert.equal(
      daemon.settings()['download-dir'],
      join(fx.root, 'new'),
      'nothing applied from a refused update',
    );
    const saved = JSON.parse(await readFile(join(fx.stateDir, 'settings.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    assert.equal(saved['peer-port'], 7000);
    assert.equal(saved['x-y'], 1);
    const stats = daemon.stats();
    assert.equal(stats.torrentCount, 2);
    assert.equal(stats.pausedTorrentCount, 1);
    assert.equal(stats.current.filesAdded, 2);
    assert.ok(stats.current.downloadedBytes >= one.data.length);
  });

  test('a restart brings every torrent back: paused stays paused, complete ones hash nothing, a corrupt entry is skipped', async (t) => {
    const fx = await daemonFixture(t, HOST);
    const one = await seederFor(t, fx.root, 'one.bin', 120 * 1024 + 3);
    const two = await seederFor(t, fx.root, 'two.bin', 90 * 1024 + 1);
    fx.tracker.peers.set(one.hash, [one.seeder.address]);
    fx.tracker.peers.set(two.hash, [two.seeder.address]);
    const first = await fx.open();
    const a = (await first.add({ source: { kind: 'metainfo', bytes: one.bytes } })).torrent;
    const b = (await first.add({ source: { kind: 'metainfo', bytes: two.bytes }, paused: true })).torrent;
    await first.set([a.id], { labels: ['keep'], seedRatioLimit: 3 });
    await until('the download', () => seeding(a));
    assert.equal(b.summary().status, 'stopped');
    await assert.rejects(
      fx.open(),
      (error: unknown) =>
        error instanceof DaemonError &&
        error.code === 'LODESTONE_ERR_DAEMON_STATE' &&
        /another daemon/.test(error.message),
    );
    await first.close();
    const bogus = join(fx.stateDir, 'torrents', `${'ab'.repeat(20)}.json`);
    await mkdir(join(fx.stateDir, 'torrents'), { recursive: true });
    await writeFile(bogus, '{ not json');

    fx.logs.length = 0;
    const second = await fx.open();
    const back = second.torrents();
    assert.deepEqual(
      back.map((torrent) => torrent.hash),
      [one.hash, two.hash],
    );
    assert.deepEqual(
      back.map((torrent) => torrent.id),
      [1, 2],
    );
    const [again, paused] = back as [typeof a, typeof b];
    assert.equal(paused.summary().status, 'stopped', 'paused stays paused');
    await until('seeding again', () => seeding(again));
    // Logged from the start (the check may end before open() returns).
    assert.ok(
      fx.logs.some((line) => /^torrent 1: ready, \d+ pieces verified, 0 hashed$/.test(line.message)),
      `no piece re-hashed: ${JSON.stringify(fx.logs.filter((line) => line.message.includes('ready')))}`,
    );
    const summary = again.summary();
    assert.equal(summary.downloadedEver, one.data.length, 'totals survive a restart');
    assert.deepEqual(summary.settings.labels, ['keep']);
    assert.equal(summary.settings.seedRatioLimit, 3);
    assert.ok(summary.doneDate > 0);
    assert.ok(
      fx.logs.some((line) => line.message.includes(bogus) && /skipped/.test(line.message)),
      'the corrupt entry is reported',
    );
    assert.equal(second.stats().cumulative.sessionCount, 2);
    assert.ok(second.stats().cumulative.downloadedBytes >= one.data.length);
  });
});
