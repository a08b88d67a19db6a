/**
 * `@ctrl/transmission` (a widely used TypeScript client of Transmission's RPC) against
 * Lodestone's RPC on loopback with basic auth, over the in-memory daemon: its calls work and the
 * daemon records what they asked for.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Transmission } from '@ctrl/transmission';
import { type RpcServer, startRpcServer } from '../../src/daemon/index.js';
import { hashRpcPassword } from '../../src/daemon/rpc-password.js';
import { MemoryDaemon, makeTorrentBytes } from '../helpers/memory-daemon.js';

const HOST = '127.0.0.45';
const MAGNET = 'magnet:?xt=urn:btih:89abcdef0123456789abcdef0123456789abcdef&dn=ctrl-magnet';

describe('@ctrl/transmission against the Lodestone RPC', { timeout: 60_000 }, () => {
  let api: MemoryDaemon;
  let server: RpcServer;
  let client: Transmission;

  before(async () => {
    api = new MemoryDaemon({
      'rpc-bind-address': HOST,
      'rpc-whitelist': `127.0.0.1,${HOST}`,
      'rpc-authentication-required': true,
      'rpc-username': 'bob',
      'rpc-password': hashRpcPassword('pw'),
    });
    server = await startRpcServer(api, { configDir: '/cfg' });
    client = new Transmission({
      baseUrl: `http://${HOST}:${server.port}/`,
      username: 'bob',
      password: 'pw',
      timeout: 10_000,
    });
  });
  after(async () => {
    await server.close();
  });

  test('a wrong password is refused', async () => {
    const wrong = new Transmission({
      baseUrl: `http://${HOST}:${server.port}/`,
      username: 'bob',
      password: 'nope',
    });
    await assert.rejects(wrong.getSession(), /401/);
  });

  test('getSession', async () => {
    const session = await client.getSession();
    assert.equal(session.result, 'success');
    assert.equal(session.arguments['rpc-version'], 17);
    assert.match(String(session.arguments.version), /Lodestone/);
  });

  test('addTorrent, addMagnet, getAllData, getTorrent', async () => {
    const bytes = makeTorrentBytes('show', [
      { path: ['e1.mkv'], length: 70_000 },
      { path: ['e2.mkv'], length: 30_000 },
    ]);
    const added = await client.addTorrent(Buffer.from(bytes), { paused: true });
    assert.equal(added.result, 'success');
    const hash = added.arguments['torrent-added'].hashString;
    const magnet = await client.addMagnet(MAGNET);
    assert.equal(magnet.result, 'success');
    assert.equal(api.callsOf('add').length, 2);
    const first = api.callsOf('add')[0]?.[0] as { paused: boolean; downloadDir: string };
    assert.equal(first.paused, true);
    assert.equal(first.downloadDir, '/downloads');

    const all = await client.getAllData();
    assert.deepEqual(
      all.torrents.map((t) => [t.id, t.name, t.state, t.totalSize]),
      [
        [hash, 'show', 'paused', 100_000],
        ['89abcdef0123456789abcdef0123456789abcdef', 'ctrl-magnet', 'downloading', 0],
      ],
    );
    const one = await client.getTorrent(hash);
    assert.equal(one.name, 'show');
    assert.equal(one.savePath, '/downloads');
  });

  test('pauseTorrent, resumeTorrent, verifyTorrent, setTorrent, queue, moveTorrent, removeTorrent', async () => {
    const hash = api.torrent(1).hash;
    await client.resumeTorrent(hash);
    assert.equal(api.torrent(1).status, 'downloading');
    await client.pauseTorrent(hash);
    assert.equal(api.torrent(1).status, 'stopped');
    await client.verifyTorrent(hash);
    assert.deepEqual(api.callsOf('verify'), [[[hash]]]);
    const set = await client.setTorrent(hash, {
      uploadLimit: 40,
      uploadLimited: true,
      labels: ['tv'],
      'files-unwanted': [1],
    });
    assert.equal(set.result, 'success');
    assert.equal(api.torrent(1).settings.uploadLimit, 40_000);
    assert.deepEqual(api.torrent(1).settings.labels, ['tv']);
    assert.deepEqual(
      api.torrent(1).fileList.map((f) => f.wanted),
      [true, false],
    );
    const data = await client.getTorrent(hash);
    assert.equal(data.label, 'tv');
    assert.equal(data.totalSelected, 70_000);
    await client.queueTop(hash);
    assert.deepEqual(api.callsOf('queueMove'), [[[hash], 'top']]);
    await client.moveTorrent(hash, '/srv/tv');
    assert.equal(api.torrent(1).downloadDir, '/srv/tv');
    const space = await client.freeSpace('/srv');
    assert.equal(space.arguments['size-bytes'], 123_456_789);
    await client.removeTorrent(hash, true);
    assert.deepEqual(api.callsOf('remove'), [[[hash], { deleteData: true }]]);
    const all = await client.getAllData();
    assert.equal(all.torrents.length, 1);
  });
});
