/**
 * A magnet's metadata phase dials the way the download does (issue 16): with the encryption
 * policy and over uTP first. Each test's only peer is python3-libtorrent, reachable one way only:
 * - encryption forced (pe_forced both ways, RC4 only, TCP only): a plaintext dial is refused;
 * - uTP only (TCP off both ways): a TCP dial is refused.
 * `lodestone download <magnet> --json` at its defaults (prefer encryption, uTP on) must fetch the
 * metadata from it and then download byte-exact; the metadata phase's `peer-connected` event says
 * how it got in. Before this change the metadata phase dialled plaintext TCP only, and both
 * runs ended with "metadata could not be fetched". `lodestone metadata` takes `--encryption` and
 * `--no-utp` as `download` does. With CI=true a missing python3-libtorrent
 * fails the test; locally it is skipped.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseTorrent } from '../../src/metainfo/index.js';
import { type CliEvent, runCli } from '../helpers/lodestone-cli.js';
import { type PayloadFixture, payloadFixture } from '../helpers/payload-fixture.js';
import { freePort, nextLoopbackAddress } from '../helpers/real-clients/net.js';
import { makeClientDir, pollUntil, spawnManaged } from '../helpers/real-clients/process.js';
import { LIBTORRENT_PYTHON, requirePythonLibtorrent } from '../helpers/tools.js';

const FIXTURES = new URL('../../../test/fixtures/', import.meta.url);
/** libtorrent with encryption forced (RC4 only), TCP only. */
const LT_ENCRYPTED = fileURLToPath(new URL('mse/lt-peer.py', FIXTURES));
/** libtorrent with a profile: `utp-only` turns TCP off both ways. */
const LT_SWARM = fileURLToPath(new URL('utp/lt-swarm-peer.py', FIXTURES));

async function libtorrentSeeder(t: TestContext, f: PayloadFixture, kind: 'encrypted' | 'utp-only') {
  const address = nextLoopbackAddress();
  const port = await freePort(address);
  const dir = await makeClientDir(`lt-magnet-${kind}`);
  await writeFile(join(dir, 'payload.bin'), f.data);
  const args =
    kind === 'encrypted'
      ? [LT_ENCRYPTED, 'seed', f.torrentPath, dir, address, String(port)]
      : [LT_SWARM, 'seed', 'utp-only', f.torrentPath, dir, address, String(port)];
  const proc = await spawnManaged({
    name: `libtorrent seeder (${kind})`,
    command: LIBTORRENT_PYTHON,
    args,
    dir,
  });
  t.after(() => proc.stop());
  await pollUntil(proc, 'libtorrent to seed', 30_000, async () => {
    const s = await readFile(join(dir, 'status.json'), 'utf8')
      .then((text) => JSON.parse(text) as { is_seeding: boolean })
      .catch(() => undefined);
    return { done: s?.is_seeding === true, status: s ? 'checking' : 'starting' };
  });
  return { address, port };
}

/** `lodestone download MAGNET --json` (at its defaults, then `extra`); resolves with its events once it exited. */
async function downloadMagnet(t: TestContext, f: PayloadFixture, peer: string, ...extra: string[]) {
  const out = join(f.root, 'download');
  await mkdir(out);
  const magnet = `magnet:?xt=urn:btih:${f.meta.infoHashHex}&x.pe=${peer}`;
  const run = runCli([
    'download',
    magnet,
    '-o',
    out,
    '--bind',
    nextLoopbackAddress(),
    '-p',
    '0',
    '--json',
    '--metadata-timeout',
    '20s',
    ...extra,
  ]);
  t.after(() => run.stop());
  const end = await run.waitFor((e) => e.type === 'done' || e.type === 'error', 60_000);
  assert.equal(end.type, 'done', `${JSON.stringify(end)}\n${(await run.exited).stderr.slice(-2000)}`);
  const exit = await run.exited;
  assert.equal(exit.code, 0, exit.stderr.slice(-2000));
  assert.ok((await readFile(join(out, 'payload.bin'))).equals(f.data), 'byte-exact');
  return run.events;
}

function metadataPeers(events: CliEvent[]): CliEvent[] {
  return events.filter((e) => e.type === 'peer-connected' && e.phase === 'metadata');
}

describe('magnet metadata over encrypted and uTP connections, from python3-libtorrent', {
  timeout: 100_000,
}, () => {
  test('the only peer requires encryption (RC4): metadata fetched and downloaded byte-exact', async (t) => {
    if (!requirePythonLibtorrent(t)) return;
    const f = await payloadFixture(t, 2 * 1024 * 1024 + 4321, 'lodestone-magnet-rc4-');
    const lt = await libtorrentSeeder(t, f, 'encrypted');
    const events = await downloadMagnet(t, f, `${lt.address}:${lt.port}`);
    const metadata = metadataPeers(events);
    assert.ok(metadata.length > 0, 'the metadata phase connected');
    assert.deepEqual(
      metadata.map((e) => [e.address, e.encryption, e.transport]),
      metadata.map(() => [`${lt.address}:${lt.port}`, 'rc4', 'tcp']),
    );
  });

  test('--encryption allow: plaintext first, refused, then at once encrypted (RC4)', async (t) => {
    if (!requirePythonLibtorrent(t)) return;
    const f = await payloadFixture(t, 512 * 1024 + 5, 'lodestone-magnet-allow-');
    const lt = await libtorrentSeeder(t, f, 'encrypted');
    // 8 s without progress ends it: the address book's 15 s back-off is too late, only the
    // immediate encrypted retry gets the metadata in time.
    const events = await downloadMagnet(
      t,
      f,
      `${lt.address}:${lt.port}`,
      '--encryption',
      'allow',
      '--metadata-timeout',
      '8s',
    );
    assert.deepEqual(
      metadataPeers(events).map((e) => e.encryption),
      ['rc4'],
    );
  });

  test('`lodestone metadata --encryption require` writes the .torrent from the RC4-only peer', async (t) => {
    if (!requirePythonLibtorrent(t)) return;
    const f = await payloadFixture(t, 512 * 1024 + 1, 'lodestone-magnet-rc4-metadata-');
    const lt = await libtorrentSeeder(t, f, 'encrypted');
    const written = join(f.root, 'fetched.torrent');
    const magnet = `magnet:?xt=urn:btih:${f.meta.infoHashHex}&x.pe=${lt.address}:${lt.port}`;
    const run = runCli([
      'metadata',
      magnet,
      '-o',
      written,
      '--bind',
      nextLoopbackAddress(),
      '-p',
      '0',
      '--json',
      '--encryption',
      'require',
      '--metadata-timeout',
      '20s',
    ]);
    t.after(() => run.stop());
    const exit = await run.exited;
    assert.equal(exit.code, 0, exit.stderr.slice(-2000));
    assert.ok(
      parseTorrent(await readFile(written)).infoBytes.equals(f.meta.infoBytes),
      'the same info dictionary',
    );
    assert.deepEqual(
      metadataPeers(run.events).map((e) => e.encryption),
      ['rc4'],
    );
    // The policy reaches the dialler: plaintext only gets nothing from this peer.
    const plain = runCli([
      'metadata',
      magnet,
      '-o',
      join(f.root, 'plain.torrent'),
      '--bind',
      nextLoopbackAddress(),
      '-p',
      '0',
      '--json',
      '--encryption',
      'disable',
      '--metadata-timeout',
      '3s',
    ]);
    t.after(() => plain.stop());
    const refused = await plain.exited;
    assert.equal(refused.code, 5, refused.stderr.slice(-2000));
    assert.deepEqual(metadataPeers(plain.events), []);
  });

  test('the only peer speaks uTP only: metadata fetched and downloaded byte-exact', async (t) => {
    if (!requirePythonLibtorrent(t)) return;
    const f = await payloadFixture(t, 2 * 1024 * 1024 + 4321, 'lodestone-magnet-utp-');
    const lt = await libtorrentSeeder(t, f, 'utp-only');
    const events = await downloadMagnet(t, f, `${lt.address}:${lt.port}`);
    const metadata = metadataPeers(events);
    assert.ok(metadata.length > 0, 'the metadata phase connected');
    assert.deepEqual(
      metadata.map((e) => [e.address, e.transport]),
      metadata.map(() => [`${lt.address}:${lt.port}`, 'utp']),
    );
  });
});
