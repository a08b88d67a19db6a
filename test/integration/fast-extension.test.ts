/**
 * BEP 6, the fast extension, on loopback, seen with `--trace`:
 * 1. libtorrent (python3-libtorrent 2.0.8, which speaks it) seeds to `lodestone download`: it
 *    sends us have-all, we send have-none (we have nothing), the download completes.
 * 2. `lodestone seed` serves libtorrent: we send have-all and our allowed-fast set, libtorrent
 *    completes.
 * 3. A scripted fast peer against `lodestone seed`: while choked, a request outside its
 *    allowed-fast set gets a reject and one inside it gets the block; a peer that did not set
 *    the fast bit and sends have-all is dropped.
 * Addresses: nextLoopbackAddress() (one per peer).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, type TestContext, test } from 'node:test';
import { addressBytes } from '../../src/address.js';
import { encode } from '../../src/bencode/index.js';
import { parseTorrent } from '../../src/metainfo/index.js';
import { allowedFastSet } from '../../src/policy/allowed-fast.js';
import {
  decodeHandshake,
  encodeHandshake,
  encodeMessage,
  HANDSHAKE_LENGTH,
  MessageDecoder,
  reservedBits,
  supportsFastExtension,
} from '../../src/wire/index.js';
import type { Message } from '../../src/wire/types.js';
import { type CliRun, runCli } from '../helpers/lodestone-cli.js';
import { pieceHashesOf } from '../helpers/piece-hashes.js';
import { nextLoopbackAddress } from '../helpers/real-clients/index.js';
import { makeClientDir, pollUntil, spawnManaged } from '../helpers/real-clients/process.js';
import { LIBTORRENT_PYTHON, requirePythonLibtorrent } from '../helpers/tools.js';

const PIECE = 32 * 1024;
const PIECE_COUNT = 40;
const data = randomBytes(PIECE * PIECE_COUNT - 1000);
const torrentBytes = encode({
  info: { name: 'fast.bin', 'piece length': PIECE, pieces: pieceHashesOf(data, PIECE), length: data.length },
});
const meta = parseTorrent(torrentBytes);
/** The downloads here take about a second; the request timeout (what a lost reject costs) is 30 s. */
const DOWNLOAD_DEADLINE_MS = 20_000;

/** libtorrent on its own address, seeding (`seed`) or leeching from `peer` (`leech`); writes `ready PORT` / `done`. */
const LIBTORRENT_PEER = `
import os, sys, time
import libtorrent as lt
mode, torrent, save, host, status = sys.argv[1:6]
peer = sys.argv[6] if len(sys.argv) > 6 else None
# 'seed-small-queue': a seeder that queues 2 requests per peer and rejects the rest (BEP 6).
queue = {'max_allowed_in_request_queue': 2} if mode == 'seed-small-queue' else {}
session = lt.session({**queue,
    'listen_interfaces': host + ':0', 'outgoing_interfaces': host,
    'enable_dht': False, 'enable_lsd': False, 'enable_upnp': False, 'enable_natpmp': False,
    'enable_outgoing_utp': False, 'enable_incoming_utp': False,
    'out_enc_policy': 2, 'allow_multiple_connections_per_ip': True,
})
handle = session.add_torrent({'ti': lt.torrent_info(torrent), 'save_path': save})
def write(text):
    with open(status + '.tmp', 'w') as f:
        f.write(text)
    os.rename(status + '.tmp', status)
if mode.startswith('seed'):
    while not handle.status().is_seeding:
        time.sleep(0.1)
    write('ready %d' % session.listen_port())
else:
    peer_host, peer_port = peer.rsplit(':', 1)
    last = 0
    while not handle.status().is_seeding:
        if handle.status().num_peers == 0 and time.time() - last > 2:
            handle.connect_peer((peer_host, int(peer_port)))
            last = time.time()
        time.sleep(0.1)
    write('done')
while True:
    time.sleep(1)
`;

let root: string;
let torrentPath: string;

before(async () => {
  root = await makeClientDir('fast-extension');
  torrentPath = join(root, 'fast.torrent');
  await writeFile(torrentPath, torrentBytes);
  await writeFile(join(root, 'peer.py'), LIBTORRENT_PEER);
  await mkdir(join(root, 'seed'));
  await writeFile(join(root, 'seed', 'fast.bin'), data);
});

after(async () => {
  if (process.env.LODESTONE_KEEP_CLIENT_DIRS !== '1') await rm(root, { recursive: true, force: true });
});

async function startLibtorrent(
  t: TestContext,
  mode: 'seed' | 'seed-small-queue' | 'leech',
  host: string,
  peer?: string,
) {
  const dir = join(root, `lt-${mode}`);
  await mkdir(dir, { recursive: true });
  if (mode !== 'leech') await writeFile(join(dir, 'fast.bin'), data);
  const status = join(dir, 'status');
  const proc = await spawnManaged({
    name: `libtorrent ${mode}`,
    command: LIBTORRENT_PYTHON,
    args: [join(root, 'peer.py'), mode, torrentPath, dir, host, status, ...(peer ? [peer] : [])],
    dir,
  });
  t.after(() => proc.stop());
  let text = '';
  await pollUntil(proc, `libtorrent ${mode}`, 60_000, async () => {
    text = await readFile(status, 'utf8').catch(() => '');
    return { done: text !== '', status: text || 'working' };
  });
  return { dir, text };
}

/** `lodestone seed --trace` on its own address; resolves once it seeds, with its port. */
async function startSeeder(t: TestContext): Promise<{ run: CliRun; host: string; port: number }> {
  const host = nextLoopbackAddress();
  const run = runCli([
    'seed',
    torrentPath,
    join(root, 'seed'),
    '--json',
    '--trace',
    '-p',
    '0',
    '--bind',
    host,
    '--no-trackers',
  ]);
  t.after(() => run.stop());
  const start = await run.waitFor((event) => event.type === 'start', 20_000);
  const seeding = await run.waitFor((event) => event.type === 'seeding' || event.type === 'error', 20_000);
  assert.equal(seeding.type, 'seeding', JSON.stringify(seeding));
  return { run, host, port: start.port as number };
}

/** `lodestone download --trace` from a libtorrent seeder; returns the trace and the seeder's address. */
async function downloadFromLibtorrent(t: TestContext, mode: 'seed' | 'seed-small-queue') {
  const seedHost = nextLoopbackAddress();
  const { text } = await startLibtorrent(t, mode, seedHost);
  const port = Number(/^ready (\d+)$/.exec(text)![1]);
  const out = join(root, `download-${mode}`);
  await mkdir(out);
  const run = runCli([
    'download',
    torrentPath,
    '-o',
    out,
    '--peer',
    `${seedHost}:${port}`,
    '--no-trackers',
    '--bind',
    nextLoopbackAddress(),
    '-p',
    '0',
    '--json',
    '--trace',
  ]);
  t.after(() => run.stop());
  // ~1 s when all goes well; a rejected block left to the 30 s request timeout overruns this.
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), DOWNLOAD_DEADLINE_MS);
  });
  const exited = await Promise.race([run.exited, late]);
  clearTimeout(timer);
  if (exited === 'late') {
    await run.stop();
    const { stderr } = await run.exited;
    assert.fail(`download not done within ${DOWNLOAD_DEADLINE_MS} ms: ${stderr.slice(-1000)}`);
  }
  const { code, stderr } = exited;
  assert.equal(code, 0, stderr.slice(-2000));
  assert.ok((await readFile(join(out, 'fast.bin'))).equals(data), 'downloaded bytes match');
  assert.doesNotMatch(stderr, /protocol violation/);
  return { stderr, from: `${seedHost.replaceAll('.', '\\.')}:${port}` };
}

describe('fast extension (BEP 6) against libtorrent', { timeout: 100_000 }, () => {
  test('libtorrent seeds to lodestone download: have-all in, have-none out', async (t) => {
    if (!requirePythonLibtorrent(t)) return;
    const { stderr, from } = await downloadFromLibtorrent(t, 'seed');
    assert.match(stderr, new RegExp(`^<- ${from} have-all$`, 'm'), 'libtorrent says have-all');
    assert.match(stderr, new RegExp(`^-> ${from} have-none$`, 'm'), 'we say have-none');
    assert.doesNotMatch(stderr, new RegExp(`^-> ${from} bitfield`, 'm'), 'not an empty bitfield');
  });

  test('libtorrent rejects requests beyond its queue of 2: lodestone asks again and completes', async (t) => {
    if (!requirePythonLibtorrent(t)) return;
    const { stderr, from } = await downloadFromLibtorrent(t, 'seed-small-queue');
    const rejected = [...stderr.matchAll(new RegExp(`^<- ${from} reject index=(\\d+) begin=(\\d+)`, 'gm'))];
    assert.ok(rejected.length > 0, 'libtorrent rejected some requests');
    // Each rejected block was asked again (not left to the 30 s request timeout) and arrived.
    for (const [, index, begin] of rejected.slice(0, 5)) {
      assert.match(stderr, new RegExp(`^<- ${from} piece index=${index} begin=${begin} `, 'm'));
    }
    assert.doesNotMatch(stderr, /^-> \S+ cancel /m, 'no request timed out');
  });

  test('lodestone seed serves libtorrent: have-all and the allowed-fast set out', async (t) => {
    if (!requirePythonLibtorrent(t)) return;
    const seeder = await startSeeder(t);
    const leechHost = nextLoopbackAddress();
    const { dir } = await startLibtorrent(t, 'leech', leechHost, `${seeder.host}:${seeder.port}`);
    assert.ok((await readFile(join(dir, 'fast.bin'))).equals(data), 'libtorrent got the bytes');
    await seeder.run.stop();
    const { stderr } = await seeder.run.exited;
    const to = `${leechHost.replaceAll('.', '\\.')}:\\d+`;
    assert.match(stderr, new RegExp(`^-> ${to} have-all$`, 'm'), 'we say have-all');
    assert.doesNotMatch(stderr, new RegExp(`^-> ${to} bitfield`, 'm'), 'not a bitfield');
    const allowed = [...stderr.matchAll(new RegExp(`^-> ${to} allowed-fast index=(\\d+)$`, 'gm'))].map((m) =>
      Number(m[1]),
    );
    const ip = addressBytes(leechHost)!;
    assert.deepEqual(allowed, allowedFastSet(ip, meta.infoHash, meta.pieceCount, 10), 'the canonical set');
  });
});

/** A raw peer: connects from its own address, handshakes, and collects decoded messages. */
async function rawPeer(t: TestContext, port: number, seederHost: string, fast: boolean) {
  const host = nextLoopbackAddress();
  const socket: Socket = connect({ host: seederHost, port, localAddress: host });
  t.after(() => socket.destroy());
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.write(
    encodeHandshake({
      reserved: reservedBits({ fastExtension: fast }),
      infoHash: meta.infoHash,
      peerId: Buffer.from('-XX0001-fastextpeer1'),
    }),
  );
  const messages: Message[] = [];
  let remoteFast: boolean | undefined;
  let pending = Buffer.alloc(0);
  const decoder = new MessageDecoder({ pieceCount: meta.pieceCount });
  const waiters: (() => void)[] = [];
  let closed = false;
  socket.on('data', (chunk: Buffer) => {
    if (remoteFast === undefined) {
      pending = Buffer.concat([pending, chunk]);
      if (pending.length < HANDSHAKE_LENGTH) return;
      remoteFast = supportsFastExtension(decodeHandshake(pending).reserved);
      chunk = pending.subarray(HANDSHAKE_LENGTH);
    }
    decoder.push(chunk);
    for (let m = decoder.next(); m !== undefined; m = decoder.next()) messages.push(m);
    for (const wake of waiters.splice(0)) wake();
  });
  socket.on('close', () => {
    closed = true;
    for (const wake of waiters.splice(0)) wake();
  });
  socket.on('error', () => {});
  /** Resolves with the first message matching, or fails once the deadline passes or the socket closes. */
  const waitFor = async (what: string, match: (m: Message) => boolean, ms = 10_000): Promise<Message> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = messages.find(match);
      if (found) return found;
      if (closed)
        assert.fail(`connection closed before ${what}; got ${messages.map((m) => m.type).join(',')}`);
      const left = deadline - Date.now();
      if (left <= 0) assert.fail(`no ${what} within ${ms} ms; got ${messages.map((m) => m.type).join(',')}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  };
  const send = (message: Message) => socket.write(encodeMessage(message));
  const closedPromise = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return { host, messages, waitFor, send, closed: closedPromise, remoteFast: () => remoteFast };
}

describe('fast extension (BEP 6): rejects and allowed-fast from lodestone seed', { timeout: 60_000 }, () => {
  test('a choked fast peer: reject outside its allowed-fast set, the block inside it', async (t) => {
    const seeder = await startSeeder(t);
    const peer = await rawPeer(t, seeder.port, seeder.host, true);
    await peer.waitFor('have-all', (m) => m.type === 'have-all');
    assert.equal(peer.remoteFast(), true, 'lodestone sets the fast bit');
    // BEP 6: a fast peer opens with have-all, have-none or a bitfield; ours has nothing.
    peer.send({ type: 'have-none' });
    const set = allowedFastSet(addressBytes(peer.host)!, meta.infoHash, meta.pieceCount, 10);
    for (const index of set)
      await peer.waitFor(`allowed-fast ${index}`, (m) => m.type === 'allowed-fast' && m.index === index);
    const outside = [...Array(meta.pieceCount).keys()].find((i) => !set.includes(i))!;
    const inside = set[0]!;
    // Never interested, so never unchoked: both requests arrive while we are choked.
    peer.send({ type: 'request', index: outside, begin: 0, length: 16_384 });
    peer.send({ type: 'request', index: inside, begin: 16_384, length: 16_384 });
    await peer.waitFor(
      `reject ${outside}:0`,
      (m) => m.type === 'reject' && m.index === outside && m.begin === 0 && m.length === 16_384,
    );
    const block = await peer
      .waitFor(`piece ${inside}`, (m) => m.type === 'piece' && m.index === inside)
      .catch(async (error: Error) => {
        // Say why the seeder closed the connection (its --trace log), not only that it did.
        await seeder.run.stop();
        const { stderr } = await seeder.run.exited;
        throw new Error(
          `${error.message}\nseeder stderr (last lines):\n${stderr.split('\n').slice(-15).join('\n')}`,
        );
      });
    assert.ok(block.type === 'piece');
    const offset = inside * PIECE + 16_384;
    assert.ok(Buffer.from(block.block).equals(data.subarray(offset, offset + 16_384)), 'the right bytes');
    assert.equal(peer.messages.filter((m) => m.type === 'unchoke').length, 0, 'still choked');
    assert.equal(
      peer.messages.filter((m) => m.type === 'piece' && m.index === outside).length,
      0,
      'no block outside the set',
    );
    await seeder.run.stop();
    const { stderr } = await seeder.run.exited;
    assert.match(
      stderr,
      new RegExp(
        `^-> ${peer.host.replaceAll('.', '\\.')}:\\d+ reject index=${outside} begin=0 length=16384$`,
        'm',
      ),
    );
  });

  test('a peer without the fast bit gets a bitfield, and is dropped for sending have-all', async (t) => {
    const seeder = await startSeeder(t);
    const peer = await rawPeer(t, seeder.port, seeder.host, false);
    await peer.waitFor('bitfield', (m) => m.type === 'bitfield');
    assert.equal(peer.messages.filter((m) => m.type === 'have-all' || m.type === 'allowed-fast').length, 0);
    peer.send({ type: 'have-all' });
    const dropped = await Promise.race([
      peer.closed.then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 10_000).unref()),
    ]);
    assert.equal(dropped, true, 'dropped for have-all without the fast extension');
    await seeder.run.stop();
    const { stderr } = await seeder.run.exited;
    assert.match(stderr, /have-all without the fast extension/);
  });
});
