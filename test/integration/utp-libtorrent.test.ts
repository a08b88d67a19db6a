/**
 * Our uTP against the reference implementation: python3-libtorrent with TCP off
 * both ways (docs/interop.md), on loopback. We dial it and fetch a block over the
 * peer wire; it dials us and we read its handshake.
 */
import assert from 'node:assert/strict';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { UtpStream } from '../../src/net/utp/utp-stream.js';
import {
  decodeHandshake,
  encodeHandshake,
  encodeMessage,
  generatePeerId,
  HANDSHAKE_LENGTH,
  type Message,
  MessageDecoder,
} from '../../src/wire/index.js';
import { freePort, nextLoopbackAddress } from '../helpers/real-clients/net.js';
import {
  type ManagedProcess,
  makeClientDir,
  pollUntil,
  spawnManaged,
} from '../helpers/real-clients/process.js';
import { LIBTORRENT_PYTHON, requirePythonLibtorrent } from '../helpers/tools.js';
import { utpEndpoint } from '../helpers/utp-endpoint.js';

const SCRIPT = fileURLToPath(new URL('../../../test/fixtures/utp/libtorrent-utp-peer.py', import.meta.url));

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

async function startLibtorrent(t: TestContext, dial?: { host: string; port: number }) {
  const address = nextLoopbackAddress();
  const port = await freePort(address);
  const dir = await makeClientDir('libtorrent-utp');
  const args = [SCRIPT, dir, address, String(port)];
  if (dial !== undefined) args.push(dial.host, String(dial.port));
  const peer: ManagedProcess = await spawnManaged({
    name: 'libtorrent (uTP only)',
    command: LIBTORRENT_PYTHON,
    args,
    dir,
  });
  t.after(() => peer.stop());
  await pollUntil(peer, 'libtorrent to seed', 30_000, async () => {
    const ready = await exists(join(dir, 'ready'));
    return { done: ready, status: ready ? 'seeding' : 'hashing' };
  });
  const infoHash = Buffer.from((await readFile(join(dir, 'infohash'), 'utf8')).trim(), 'hex');
  return { address, port, dir, infoHash, peer };
}

function rejectAfter(ms: number, message: string): Promise<never> {
  return new Promise((_, reject) => setTimeout(() => reject(new Error(message)), ms).unref());
}

/** The handshake, then peer-wire messages, from a stream: wait for the ones you want. */
function readMessages(stream: UtpStream) {
  const decoder = new MessageDecoder();
  let handshake: Buffer = Buffer.alloc(0);
  let handshakeDone = false;
  const waiting: { want: (m: Message) => boolean; resolve: (m: Message) => void }[] = [];
  const handshakeWaiters: ((b: Buffer) => void)[] = [];
  stream.on('data', (chunk: Buffer) => {
    let rest = chunk;
    if (!handshakeDone) {
      handshake = Buffer.concat([handshake, chunk]);
      if (handshake.length < HANDSHAKE_LENGTH) return;
      handshakeDone = true;
      rest = handshake.subarray(HANDSHAKE_LENGTH);
      for (const w of handshakeWaiters) w(handshake.subarray(0, HANDSHAKE_LENGTH));
    }
    if (rest.length > 0) decoder.push(rest);
    for (let m = decoder.next(); m !== undefined; m = decoder.next()) {
      const copy = m.type === 'piece' ? { ...m, block: Buffer.from(m.block) } : m;
      const at = waiting.findIndex((w) => w.want(copy));
      if (at >= 0) waiting.splice(at, 1)[0]!.resolve(copy);
    }
  });
  let closed: Error | undefined;
  const failed = new Promise<never>((_, reject) => {
    stream.once('close', () => {
      closed = new Error('the uTP stream closed first');
      reject(closed);
    });
  });
  failed.catch(() => {});
  /** Settles within 10 s, or fails naming what never came (or the close that came first). */
  const within = <T>(what: string, promise: Promise<T>): Promise<T> =>
    Promise.race([promise, failed, rejectAfter(10_000, `no ${what} from libtorrent within 10 s`)]);
  return {
    handshake: () => within('handshake', new Promise<Buffer>((resolve) => handshakeWaiters.push(resolve))),
    message: (what: string, want: (m: Message) => boolean) =>
      within(what, new Promise<Message>((resolve) => waiting.push({ want, resolve }))),
  };
}

describe('uTP against python3-libtorrent (uTP only)', { timeout: 60_000 }, () => {
  test('we dial libtorrent over uTP: handshakes, then a requested block arrives byte-exact', async (t) => {
    if (!requirePythonLibtorrent(t)) return;
    const lt = await startLibtorrent(t);
    const us = await utpEndpoint(nextLoopbackAddress());
    t.after(() => us.close());
    const stream = await us.utp.connect(lt.address, lt.port);
    t.after(() => stream.destroy());
    const reader = readMessages(stream);
    const handshake = reader.handshake();
    const unchoke = reader.message('unchoke', (m) => m.type === 'unchoke');
    stream.write(
      encodeHandshake({ reserved: new Uint8Array(8), infoHash: lt.infoHash, peerId: generatePeerId() }),
    );
    const theirs = decodeHandshake(await handshake);
    assert.deepEqual(Buffer.from(theirs.infoHash), lt.infoHash);
    stream.write(encodeMessage({ type: 'interested' }));
    await unchoke;
    const piece = reader.message('piece', (m) => m.type === 'piece');
    stream.write(encodeMessage({ type: 'request', index: 3, begin: 16384, length: 16384 }));
    const block = await piece;
    assert.equal(block.type, 'piece');
    const data = await readFile(join(lt.dir, 'data.bin'));
    const start = 3 * 65536 + 16384;
    assert.ok(
      Buffer.from(block.block).equals(data.subarray(start, start + 16384)),
      'the block matches the file',
    );
    // libtorrent sees us as a uTP peer (its peer list is rewritten every 100 ms).
    await pollUntil(lt.peer, 'libtorrent to list us as a uTP peer', 5000, async () => {
      const peers = await readFile(join(lt.dir, 'peers'), 'utf8').catch(() => '');
      return { done: /utp/.test(peers), status: JSON.stringify(peers) };
    });
  });

  test('libtorrent dials our uTP listener: we accept and read its handshake for the torrent', async (t) => {
    if (!requirePythonLibtorrent(t)) return;
    const host = nextLoopbackAddress();
    const us = await utpEndpoint(host);
    t.after(() => us.close());
    const incoming = new Promise<UtpStream>((resolve) => us.utp.once('connection', resolve));
    const lt = await startLibtorrent(t, { host, port: us.port });
    const stream = await Promise.race([
      incoming,
      rejectAfter(10_000, 'libtorrent did not connect within 10 s'),
    ]);
    t.after(() => stream.destroy());
    assert.equal(stream.remoteAddress, lt.address);
    const reader = readMessages(stream);
    const handshake = decodeHandshake(await reader.handshake());
    assert.deepEqual(Buffer.from(handshake.infoHash), lt.infoHash);
    // Answer as a peer of that torrent: libtorrent, a seeder, follows with its bitfield.
    const bitfield = reader.message('bitfield', (m) => m.type === 'bitfield' || m.type === 'have-all');
    stream.write(
      encodeHandshake({ reserved: new Uint8Array(8), infoHash: lt.infoHash, peerId: generatePeerId() }),
    );
    const first = await bitfield;
    assert.ok(first.type === 'bitfield' || first.type === 'have-all');
  });
});
