/**
 * The DHT end to end with real clients on a mixed loopback DHT (python3-libtorrent nodes and a
 * bittorrent-dht node; test/helpers/dht-network.ts), torrents with no tracker at all:
 * - a libtorrent seeder, then an aria2 seeder, announce only to the DHT; `lodestone download
 *   "magnet:?xt=urn:btih:…" --dht-bootstrap <one loopback node>` finds it and downloads byte-exact;
 * - `lodestone seed` with no tracker announces to the DHT; libtorrent and aria2, given only the
 *   magnet and one DHT node, find it and download it byte-exact.
 * (Lodestone ↔ Lodestone is test/integration/dht-lodestone.test.ts.)
 */
import assert from 'node:assert/strict';
import { copyFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import {
  contactText,
  type DhtContact,
  type LtDhtNode,
  ltKnows,
  startAria2DhtNode,
  startBittorrentDhtNode,
  startLibtorrentDhtNode,
  until,
} from '../helpers/dht-network.js';
import { runCli } from '../helpers/lodestone-cli.js';
import { type PayloadFixture, payloadFixture } from '../helpers/payload-fixture.js';
import { nextLoopbackAddress } from '../helpers/real-clients/net.js';
import { makeClientDir } from '../helpers/real-clients/process.js';
import { requirePythonLibtorrent, requireTool } from '../helpers/tools.js';

/** libtorrent A (everyone's entry), libtorrent B and a bittorrent-dht node, A knowing both. */
async function network(t: TestContext): Promise<{ a: LtDhtNode; b: LtDhtNode; entries: DhtContact[] }> {
  const a = await startLibtorrentDhtNode(t, { bootstrap: [] });
  const b = await startLibtorrentDhtNode(t, { bootstrap: [a.contact] });
  const w = await startBittorrentDhtNode(t, [a.contact, b.contact]);
  await ltKnows(a, 2);
  return { a, b, entries: [a.contact, b.contact, w.contact] };
}

const magnetOf = (f: PayloadFixture): string => `magnet:?xt=urn:btih:${f.meta.infoHashHex}`;
const copyPayload = (f: PayloadFixture) => (dir: string) =>
  copyFile(join(f.seedDir, 'payload.bin'), join(dir, 'payload.bin'));

/** `lodestone download <magnet> --dht-bootstrap <entry>` must exit 0 with the exact bytes. */
async function lodestoneDownloads(t: TestContext, f: PayloadFixture, entry: DhtContact): Promise<void> {
  const out = await makeClientDir('lodestone-dht-leech');
  const run = runCli([
    'download',
    magnetOf(f),
    '-o',
    out,
    '--bind',
    nextLoopbackAddress(),
    '--port',
    '0',
    '--json',
    '--dht-bootstrap',
    contactText(entry),
    '--state-dir',
    join(out, 'state'),
  ]);
  t.after(() => run.stop());
  const timer = setTimeout(() => void run.stop(), 45_000);
  const { code, stderr } = await run.exited;
  clearTimeout(timer);
  assert.equal(code, 0, stderr);
  assert.ok(
    run.events.some((event) => event.type === 'dht' && Number(event.peersFound) >= 1),
    'the seeder came from the DHT',
  );
  assert.ok((await readFile(join(out, 'payload.bin'))).equals(f.data), 'byte-exact');
}

test('DHT: a libtorrent seeder announced only to the DHT; lodestone download of an xt-only magnet finds it', {
  timeout: 90_000,
}, async (t) => {
  if (!requirePythonLibtorrent(t)) return;
  const f = await payloadFixture(t, 700 * 1024 + 11, 'lodestone-dht-lt-seed-');
  const { a, b } = await network(t);
  const seeder = await startLibtorrentDhtNode(t, {
    bootstrap: [a.contact, b.contact],
    seed: { torrentPath: f.torrentPath, writeData: copyPayload(f) },
  });
  await ltKnows(seeder, 2);
  // Ready when the seeder's announce is on the DHT (a loaded machine can delay it past Lodestone's
  // first lookup, whose retry comes a minute later).
  const looker = await startLibtorrentDhtNode(t, { bootstrap: [a.contact], getPeers: [f.meta.infoHashHex] });
  await until("the libtorrent seeder's announce to be on the DHT", 40_000, async () => {
    const found = (await looker.status()).found[f.meta.infoHashHex] ?? [];
    return { done: found.some((p) => p.startsWith(`${seeder.contact.host}:`)), status: found.join(' ') };
  });
  // B is the only node Lodestone is given.
  await lodestoneDownloads(t, f, b.contact);
  const s = await seeder.status();
  assert.ok((s.uploaded ?? 0) >= f.data.length, `the libtorrent seeder served it (uploaded ${s.uploaded})`);
});

test('DHT: an aria2 seeder announced only to the DHT; lodestone download of an xt-only magnet finds it', {
  timeout: 90_000,
}, async (t) => {
  if (!requirePythonLibtorrent(t) || !requireTool(t, 'aria2c')) return;
  const f = await payloadFixture(t, 500 * 1024 + 3, 'lodestone-dht-aria2-seed-');
  const { a } = await network(t);
  const aria2 = await startAria2DhtNode(t, {
    entry: a.contact,
    uri: f.torrentPath,
    beforeStart: copyPayload(f),
  });
  // aria2 announces after its first get_peers round; A then holds aria2's peer.
  const looker = await startLibtorrentDhtNode(t, { bootstrap: [a.contact], getPeers: [f.meta.infoHashHex] });
  await until("aria2's announce to be on the DHT", 40_000, async () => {
    const found = (await looker.status()).found[f.meta.infoHashHex] ?? [];
    return { done: found.some((p) => p.startsWith(`${aria2.contact.host}:`)), status: found.join(' ') };
  });
  await lodestoneDownloads(t, f, a.contact);
});

test('DHT: lodestone seed with no tracker; libtorrent and aria2 find it through the DHT and download it', {
  timeout: 100_000,
}, async (t) => {
  if (!requirePythonLibtorrent(t) || !requireTool(t, 'aria2c')) return;
  const f = await payloadFixture(t, 600 * 1024 + 5, 'lodestone-dht-ours-seed-');
  const { a, b } = await network(t);
  const state = await makeClientDir('lodestone-dht-seed-state');
  const host = nextLoopbackAddress();
  const seeder = runCli([
    'seed',
    f.torrentPath,
    f.seedDir,
    '--bind',
    host,
    '--port',
    '0',
    '--json',
    '--dht-bootstrap',
    contactText(a.contact),
    '--state-dir',
    state,
  ]);
  t.after(() => seeder.stop());
  await seeder.waitFor((event) => event.type === 'dht-ready', 20_000);

  // Both start at once, so each can meet Lodestone only through the DHT (no tracker; no PEX in
  // aria2): each must have connected to the Lodestone seeder, and end with the exact bytes.
  const lt = await startLibtorrentDhtNode(t, { bootstrap: [b.contact], magnet: magnetOf(f) });
  const aria2 = await startAria2DhtNode(t, { entry: b.contact, uri: magnetOf(f) });
  const connectedFrom = (peerHost: string): boolean =>
    seeder.events.some((e) => e.type === 'peer-connected' && String(e.address).includes(`${peerHost}:`));
  await until('libtorrent to download, connected to Lodestone', 45_000, async () => {
    const s = await lt.status();
    return {
      done: s.is_seeding === true && connectedFrom(lt.contact.host),
      status: `progress ${s.progress}; connected to Lodestone: ${connectedFrom(lt.contact.host)}`,
    };
  });
  assert.ok((await readFile(join(lt.dir, 'payload.bin'))).equals(f.data), 'libtorrent: byte-exact');
  // aria2 logs "Download complete: <file>" only when it stops seeding: read the file instead.
  await until('aria2 to download, connected to Lodestone', 45_000, async () => {
    const data = await readFile(join(aria2.dir, 'payload.bin')).catch(() => undefined);
    return {
      done: connectedFrom(aria2.contact.host) && data?.equals(f.data) === true,
      status: `connected to Lodestone: ${connectedFrom(aria2.contact.host)}; ${data?.length ?? 'no'} bytes on disk`,
    };
  });
});
