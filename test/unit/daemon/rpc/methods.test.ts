import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { handleRpcRequest, type MethodContext } from '../../../../src/daemon/rpc/methods.js';
import { DaemonError } from '../../../../src/errors.js';
import { MemoryDaemon, makeTorrentBytes } from '../../../helpers/memory-daemon.js';

const MAGNET = 'magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=mag';

function setup(api = new MemoryDaemon()) {
  const logs: string[] = [];
  let closed = 0;
  const fetched: string[] = [];
  const ctx: MethodContext = {
    api,
    sessionId: 'sid',
    configDir: '/cfg',
    version: '3.00 (Lodestone test)',
    log: (level, message) => logs.push(`${level}: ${message}`),
    onSessionClose: () => {
      closed++;
    },
    fetchTorrent: async (url) => {
      fetched.push(url);
      return makeTorrentBytes('from-url', [{ path: ['u.bin'], length: 1000 }]);
    },
  };
  const call = (method: string, args: Record<string, unknown> = {}, tag?: number) =>
    handleRpcRequest({ method, arguments: args, ...(tag === undefined ? {} : { tag }) }, ctx);
  return { api, ctx, call, logs, fetched, closedCount: () => closed };
}

const torrentBase64 = (name: string) =>
  Buffer.from(makeTorrentBytes(name, [{ path: [`${name}.bin`], length: 5000 }])).toString('base64');

describe('RPC methods over DaemonApi', () => {
  test('no method, unknown method: Transmission result strings; the tag comes back', async () => {
    const { ctx, call } = setup();
    assert.deepEqual(await handleRpcRequest(undefined, ctx), { arguments: {}, result: 'no method name' });
    assert.deepEqual(await handleRpcRequest([1, 2], ctx), { arguments: {}, result: 'no method name' });
    assert.deepEqual(await call('torrent-explode', {}, 7), {
      arguments: {},
      result: 'method name not recognized',
      tag: 7,
    });
    assert.deepEqual(await call('constructor'), { arguments: {}, result: 'method name not recognized' });
  });

  test('torrent-add: metainfo, magnet, local file, http URL, duplicate', async () => {
    const { api, call, fetched } = setup();
    const dir = await mkdtemp(join(tmpdir(), 'rpc-methods-'));
    try {
      const added = await call('torrent-add', {
        metainfo: torrentBase64('one'),
        paused: true,
        'download-dir': '/dl',
        labels: ['x'],
      });
      assert.equal(added.result, 'success');
      const entry = added.arguments['torrent-added'] as { id: number; name: string; hashString: string };
      assert.equal(entry.name, 'one');
      assert.match(entry.hashString, /^[0-9a-f]{40}$/);
      const request = api.callsOf('add')[0]?.[0] as {
        paused: boolean;
        downloadDir: string;
        settings: unknown;
      };
      assert.equal(request.paused, true);
      assert.equal(request.downloadDir, '/dl');
      assert.deepEqual(request.settings, { labels: ['x'] });

      const dup = await call('torrent-add', { metainfo: torrentBase64('one') });
      assert.equal(dup.result, 'success');
      assert.deepEqual(dup.arguments['torrent-duplicate'], entry);

      const magnet = await call('torrent-add', { filename: MAGNET });
      assert.equal((magnet.arguments['torrent-added'] as { name: string }).name, 'mag');
      assert.deepEqual((api.callsOf('add')[2]?.[0] as { source: unknown } | undefined)?.source, {
        kind: 'magnet',
        uri: MAGNET,
      });

      const path = join(dir, 'local.torrent');
      await writeFile(path, makeTorrentBytes('local', [{ path: ['l.bin'], length: 10 }]));
      const local = await call('torrent-add', { filename: path });
      assert.equal((local.arguments['torrent-added'] as { name: string }).name, 'local');

      const url = await call('torrent-add', { filename: 'http://127.0.0.1:1/x.torrent' });
      assert.equal((url.arguments['torrent-added'] as { name: string }).name, 'from-url');
      assert.deepEqual(fetched, ['http://127.0.0.1:1/x.torrent']);

      assert.equal((await call('torrent-add', {})).result, 'no filename or metainfo specified');
      // The daemon's typed error message becomes the result.
      assert.equal(
        (await call('torrent-add', { metainfo: 'bm90IGEgdG9ycmVudA==' })).result,
        'invalid or corrupt torrent file',
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('torrent-get: fields, ids, table format, recently-active with removed', async () => {
    const { call } = setup();
    await call('torrent-add', { metainfo: torrentBase64('a') });
    const b = await call('torrent-add', { metainfo: torrentBase64('b') });
    const bHash = (b.arguments['torrent-added'] as { hashString: string }).hashString;
    assert.equal((await call('torrent-get', {})).result, 'no fields specified');

    const all = await call('torrent-get', { fields: ['id', 'name', 'bogus'] });
    assert.deepEqual(all.arguments, {
      torrents: [
        { id: 1, name: 'a' },
        { id: 2, name: 'b' },
      ],
    });
    const byHash = await call('torrent-get', { ids: [bHash.toUpperCase()], fields: ['id'] });
    assert.deepEqual(byHash.arguments, { torrents: [{ id: 2 }] });
    const table = await call('torrent-get', { ids: 1, fields: ['id', 'name'], format: 'table' });
    assert.deepEqual(table.arguments, {
      torrents: [
        ['id', 'name'],
        [1, 'a'],
      ],
    });

    await call('torrent-remove', { ids: [1] });
    const recent = await call('torrent-get', { ids: 'recently-active', fields: ['id'] });
    assert.deepEqual(recent.arguments, { torrents: [{ id: 2 }], removed: [1] });
  });

  test('torrent-set: patch to the daemon; empty file lists mean every file of each torrent', async () => {
    const { api, call } = setup();
    const bytes = makeTorrentBytes('multi', [
      { path: ['x'], length: 10 },
      { path: ['y'], length: 10 },
      { path: ['z'], length: 10 },
    ]);
    await call('torrent-add', { metainfo: Buffer.from(bytes).toString('base64') });
    assert.equal(
      (await call('torrent-set', { ids: [1], 'files-unwanted': [0, 2], uploadLimit: 10 })).result,
      'success',
    );
    assert.deepEqual(api.callsOf('set')[0], [[1], { uploadLimit: 10_000, filesUnwanted: [0, 2] }]);
    await call('torrent-set', { ids: [1], 'files-wanted': [] });
    assert.deepEqual(api.callsOf('set')[1], [[1], { filesWanted: [0, 1, 2] }]);
    assert.equal((await call('torrent-set', { ids: [1], seedRatioMode: 9 })).result, 'invalid seedRatioMode');
    await call('torrent-set', { ids: [1], location: '/new' });
    assert.deepEqual(api.callsOf('setLocation')[0], [[1], '/new', { move: false }]);
  });

  test('start, start-now, stop, verify, reannounce, remove, set-location, queue moves', async () => {
    const { api, call } = setup();
    await call('torrent-add', { metainfo: torrentBase64('a') });
    for (const method of [
      'torrent-start',
      'torrent-start-now',
      'torrent-stop',
      'torrent-verify',
      'torrent-reannounce',
    ]) {
      assert.equal((await call(method, { ids: [1] })).result, 'success', method);
    }
    await call('queue-move-top', { ids: [1] });
    await call('queue-move-down', { ids: [1] });
    await call('torrent-set-location', { ids: [1], location: '/m', move: true });
    assert.equal((await call('torrent-set-location', { ids: [1] })).result, 'no location');
    await call('torrent-remove', { ids: [1], 'delete-local-data': true });
    assert.deepEqual(
      api.calls.filter((c) => c.method !== 'add').map((c) => [c.method, ...c.args]),
      [
        ['start', [1], undefined],
        ['start', [1], { now: true }],
        ['stop', [1]],
        ['verify', [1]],
        ['reannounce', [1]],
        ['queueMove', [1], 'top'],
        ['queueMove', [1], 'down'],
        ['setLocation', [1], '/m', { move: true }],
        ['remove', [1], { deleteData: true }],
      ],
    );
  });

  test('torrent-rename-path needs exactly one torrent and answers id, path, name', async () => {
    const { call } = setup();
    await call('torrent-add', { metainfo: torrentBase64('a') });
    await call('torrent-add', { metainfo: torrentBase64('b') });
    assert.equal(
      (await call('torrent-rename-path', { path: 'a', name: 'c' })).result,
      'torrent-rename-path requires 1 torrent',
    );
    const renamed = await call('torrent-rename-path', { ids: [1], path: 'a', name: 'c' });
    assert.deepEqual(renamed, { arguments: { id: 1, path: 'a', name: 'c' }, result: 'success' });
  });

  test('session-get, session-set, session-stats, session-close, free-space', async () => {
    const { api, call, closedCount } = setup();
    const got = await call('session-get', {
      fields: ['version', 'rpc-version', 'download-dir-free-space', 'encryption'],
    });
    assert.deepEqual(got.arguments, {
      version: '3.00 (Lodestone test)',
      'rpc-version': 17,
      'download-dir-free-space': 123_456_789,
      encryption: 'preferred',
    });
    assert.equal(
      (
        await call('session-set', {
          'speed-limit-down': 500,
          'speed-limit-down-enabled': true,
          'rpc-whitelist-enabled': false,
        })
      ).result,
      'success',
    );
    assert.deepEqual(api.callsOf('updateSettings'), [
      [{ 'speed-limit-down': 500, 'speed-limit-down-enabled': true }],
    ]);
    assert.equal(api.settings()['rpc-whitelist-enabled'], true);
    assert.equal(
      (await call('session-set', { 'speed-limit-down': 'x' })).result,
      'invalid value for speed-limit-down',
    );
    assert.equal((await call('session-stats')).result, 'success');
    assert.equal((await call('session-close')).result, 'success');
    assert.equal(closedCount(), 1);
    assert.deepEqual((await call('free-space', { path: '/data' })).arguments, {
      path: '/data',
      'size-bytes': 123_456_789,
      total_size: 987_654_321,
    });
    assert.equal((await call('free-space', { path: 'relative' })).result, 'directory path is not absolute');
  });

  test('port-test and blocklist-update say they are not supported', async () => {
    const { call } = setup();
    assert.match((await call('port-test')).result, /not supported/);
    assert.equal((await call('blocklist-update')).result, 'blocklist is not supported');
  });

  test('a daemon error is the result; any other error is "internal error", logged', async () => {
    const api = new MemoryDaemon();
    const { call, logs } = setup(api);
    api.stop = async () => {
      throw new DaemonError('LODESTONE_ERR_DAEMON_STATE', 'cannot stop now');
    };
    api.verify = async () => {
      throw new TypeError('boom');
    };
    assert.equal((await call('torrent-stop')).result, 'cannot stop now');
    assert.equal((await call('torrent-verify')).result, 'internal error');
    assert.equal(logs.length, 1);
    assert.match(logs[0] ?? '', /^error: rpc torrent-verify: TypeError: boom/);
  });
});
