/**
 * Micro-benchmarks (tinybench) of the hot paths, on the compiled library
 * (dist/src): bencode decoding of a torrent with many pieces, wire framing of
 * piece messages, the piece picker per request, SHA-1 through the hashing
 * pool, the file storage's write and resume check, and MSE's RC4.
 *
 * Each tinybench iteration runs a batch of operations (`opsPerIteration`), so
 * sub-microsecond operations are timed well above the timer's resolution;
 * results are per single operation. Inputs are seeded, so runs compare.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bench } from 'tinybench';
import { decode, encode } from '../src/bencode/index.js';
import { Bitfield, parseTorrent } from '../src/index.js';
import { buildTorrentFile } from '../src/metainfo/index.js';
import { Rc4 } from '../src/net/mse/rc4.js';
import { type BlockRequest, type PickerPeer, PiecePicker } from '../src/policy/index.js';
import { PieceAssembler } from '../src/session/piece-assembler.js';
import { checkExisting, FileStorage, HashPool, sha1 } from '../src/storage/index.js';
import { encodeMessage, MessageDecoder } from '../src/wire/index.js';
import { BenchError, MiB } from './measure.js';

export interface MicroResult {
  name: string;
  /** Median time of one operation. */
  medianMs: number;
  /** Fastest sample, per operation: less disturbed by other load on the machine than the median. */
  bestMs: number;
  /** For byte-oriented operations: bytes per operation (for MiB/s). */
  bytesPerOp?: number;
  /** Otherwise an operation rate, e.g. '1.2 M/s'. */
  rate: string;
  samples: number;
}

interface MicroTask {
  name: string;
  opsPerIteration: number;
  bytesPerOp?: number;
  fn: () => unknown;
}

/** mulberry32: a small seeded PRNG, so the picker sees the same swarm every run. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A torrent shaped like mktorrent's output for a 2 GiB file in 256 KiB pieces (8192 piece hashes). */
function manyPieceTorrent(): Buffer {
  const pieceCount = 8192;
  const info = encode({
    length: pieceCount * 256 * 1024,
    name: 'bench-2GiB.bin',
    'piece length': 256 * 1024,
    pieces: randomBytes(pieceCount * 20),
  });
  return buildTorrentFile(info, {
    announceTiers: [['http://127.0.0.1:6969/announce']],
    createdBy: 'mktorrent 1.1',
    creationDate: new Date(1_700_000_000_000),
  });
}

/** A multi-file torrent: 1000 files in 50 folders, 4096 pieces (many small dictionaries and lists). */
function manyFileTorrent(): Buffer {
  const files = Array.from({ length: 1000 }, (_, i) => ({
    length: 1024 * 1024 + i,
    path: [`folder-${i % 50}`, `file-${String(i).padStart(4, '0')}.dat`],
  }));
  const pieceCount = Math.ceil(files.reduce((sum, file) => sum + file.length, 0) / (256 * 1024));
  const info = encode({
    files,
    name: 'bench-many-files',
    'piece length': 256 * 1024,
    pieces: randomBytes(pieceCount * 20),
  });
  return buildTorrentFile(info, { announceTiers: [['http://127.0.0.1:6969/announce']] });
}

function bencodeTasks(): MicroTask[] {
  const torrent = manyPieceTorrent();
  const label = `${Math.round(torrent.length / 1024)} KiB, 8192 pieces`;
  const multi = manyFileTorrent();
  return [
    {
      // Piece hashes are one byte string (a view, not a copy): the cost is the structure, not the size.
      name: `bencode decode of a single-file .torrent (${label})`,
      opsPerIteration: 20,
      fn: () => {
        for (let i = 0; i < 20; i++) decode(torrent);
      },
    },
    {
      name: `bencode decode of a 1000-file .torrent (${Math.round(multi.length / 1024)} KiB)`,
      opsPerIteration: 1,
      bytesPerOp: multi.length,
      fn: () => decode(multi),
    },
    {
      name: `parseTorrent, incl. info-hash (${label})`,
      opsPerIteration: 20,
      bytesPerOp: torrent.length,
      fn: () => {
        for (let i = 0; i < 20; i++) parseTorrent(torrent);
      },
    },
  ];
}

/** 256 piece messages of 16 KiB blocks, cut into 64 KiB socket-sized chunks. */
/**
 * RC4 as an MSE connection runs it: socket-sized reads of 64 KiB, and piece messages of
 * 16 KiB + 13 bytes that end off a word boundary (the byte tail runs on every other call).
 */
function rc4Task(): MicroTask {
  const backing = randomBytes(64 * 1024 + 16 * 1024 + 16);
  const cipher = new Rc4(randomBytes(20), 1024);
  const calls = 16;
  const pieceMessage = 16 * 1024 + 13;
  const bytes = (calls / 2) * (64 * 1024 + pieceMessage);
  return {
    name: `MSE: RC4 in place, 64 KiB reads and 16 KiB + 13 B piece messages (per ${Math.round(bytes / 1024)} KiB)`,
    opsPerIteration: 1,
    bytesPerOp: bytes,
    fn: () => {
      for (let call = 0; call < calls; call++) {
        if (call % 2 === 0) cipher.process(backing, 0, 64 * 1024);
        else cipher.process(backing, 3, 3 + pieceMessage);
      }
    },
  };
}

function wireTask(): MicroTask {
  const messages = 256;
  const block = randomBytes(16 * 1024);
  const stream = Buffer.concat(
    Array.from({ length: messages }, (_, i) =>
      encodeMessage({ type: 'piece', index: i >> 4, begin: (i & 15) * block.length, block }),
    ),
  );
  const chunks: Buffer[] = [];
  for (let at = 0; at < stream.length; at += 64 * 1024) chunks.push(stream.subarray(at, at + 64 * 1024));
  return {
    name: 'wire: MessageDecoder push/next, 16 KiB piece messages in 64 KiB chunks (per message)',
    opsPerIteration: messages,
    bytesPerOp: stream.length / messages,
    fn: () => {
      const decoder = new MessageDecoder({ pieceCount: 4096 });
      let decoded = 0;
      for (const chunk of chunks) {
        decoder.push(chunk);
        for (let message = decoder.next(); message !== undefined; message = decoder.next()) decoded++;
      }
      if (decoded !== messages) throw new BenchError(`decoded ${decoded} of ${messages} messages`);
    },
  };
}

/**
 * The picker as a session drives it: 3 peers (one seed, one with 3/4 of the
 * pieces, one with half), each keeping 16 requests in flight; one operation =
 * a block arrives (blockReceived, pieceVerified when complete) and one new
 * request is picked for that peer. Restarts near the end to stay out of endgame.
 */
function pickerTask(): MicroTask {
  const pieceCount = 4096;
  const pieceLength = 256 * 1024;
  const depth = 16;
  const random = seededRandom(42);
  const makePeer = (id: string, share: number): PickerPeer => {
    const has = new Bitfield(pieceCount);
    for (let i = 0; i < pieceCount; i++) if (share >= 1 || random() < share) has.set(i);
    return { id, has };
  };
  const peers = [makePeer('seed', 1), makePeer('three-quarters', 0.75), makePeer('half', 0.5)];
  let picker!: PiecePicker;
  let queues!: BlockRequest[][];
  const restart = () => {
    picker = new PiecePicker({ pieceCount, pieceLength, totalLength: pieceCount * pieceLength, random });
    for (const peer of peers) picker.addPeerBitfield(peer.has);
    queues = peers.map((peer) => picker.pick(peer, depth));
  };
  restart();
  let turn = 0;
  const cycles = 1024;
  return {
    name: 'PiecePicker: block received + pick next request (4096 pieces, 3 peers, 16 in flight)',
    opsPerIteration: cycles,
    fn: () => {
      for (let i = 0; i < cycles; i++) {
        if (picker.missingPieceCount < 256) restart();
        const which = turn++ % peers.length;
        const peer = peers[which]!;
        const queue = queues[which]!;
        const request = queue.shift();
        if (request !== undefined) {
          const receipt = picker.blockReceived(request.index, request.begin, peer.id);
          if (receipt.pieceComplete) picker.pieceVerified(request.index);
        }
        for (const next of picker.pick(peer, depth - queue.length)) queue.push(next);
      }
    },
  };
}

/** A single-file torrent of `size` random bytes in 1 MiB pieces, each piece as 16 KiB blocks. */
function storageFixture(size: number) {
  const pieceLength = MiB;
  const pieces: Buffer[][] = [];
  const hashes: Buffer[] = [];
  for (let at = 0; at < size; at += pieceLength) {
    const data = randomBytes(Math.min(pieceLength, size - at));
    const blocks: Buffer[] = [];
    for (let b = 0; b < data.length; b += 16 * 1024) blocks.push(data.subarray(b, b + 16 * 1024));
    pieces.push(blocks);
    hashes.push(sha1([data]));
  }
  const info = encode({
    length: size,
    name: 'storage.bin',
    'piece length': pieceLength,
    pieces: Buffer.concat(hashes),
  });
  return { meta: parseTorrent(buildTorrentFile(info)), pieces };
}

/** Feeds a piece's blocks to the assembler (second half first, so half of them wait for the gap) and verifies it. */
async function assemble(assembler: PieceAssembler, blocks: readonly Buffer[]): Promise<boolean | 'error'> {
  const half = blocks.length >> 1;
  const order = [...blocks.keys()].map((i) => (i + half) % blocks.length);
  for (const i of order) assembler.addBlock(0, i * 16 * 1024, blocks[i]!, 'peer');
  return (await assembler.verify(0)).valid;
}

export interface MicroOptions {
  quick: boolean;
  /** Only tasks whose name contains this (case-insensitive). */
  filter?: string;
  onProgress?: (line: string) => void;
}

export async function runMicroBenchmarks(options: MicroOptions): Promise<MicroResult[]> {
  const pool = new HashPool();
  const dir = await mkdtemp(join(tmpdir(), 'lodestone-bench-micro-'));
  const storageSize = 64 * MiB;
  const fixture = storageFixture(storageSize);
  const storage = new FileStorage(fixture.meta, dir);
  try {
    await storage.open();
    const piece = randomBytes(MiB);
    const hashBatch = 16;
    const assembler = new PieceAssembler(fixture.meta, { writePiece: async () => {} });
    const tasks: MicroTask[] = [
      ...bencodeTasks(),
      rc4Task(),
      wireTask(),
      pickerTask(),
      {
        name: 'SHA-1 sync on the main thread (1 MiB piece; baseline)',
        opsPerIteration: 1,
        bytesPerOp: MiB,
        fn: () => sha1([piece]),
      },
      {
        name: 'PieceAssembler: 1 MiB piece from 16 KiB blocks, SHA-1 fed as they arrive, then verified (per piece; the download path)',
        opsPerIteration: 1,
        bytesPerOp: MiB,
        fn: async () => {
          const outcome = await assemble(assembler, fixture.pieces[0]!);
          if (outcome !== true) throw new BenchError('the assembled piece did not verify');
        },
      },
      {
        name: `HashPool.hash, ${pool.size} worker(s), ${hashBatch} × 1 MiB pieces at once (per piece)`,
        opsPerIteration: hashBatch,
        bytesPerOp: MiB,
        fn: () => Promise.all(Array.from({ length: hashBatch }, () => pool.hash([piece]))),
      },
      {
        name: 'FileStorage.writePiece, 1 MiB pieces of 16 KiB blocks, 4 at once (64 MiB file; per piece)',
        opsPerIteration: fixture.pieces.length,
        bytesPerOp: MiB,
        fn: async () => {
          for (let i = 0; i < fixture.pieces.length; i += 4) {
            await Promise.all(
              fixture.pieces.slice(i, i + 4).map((blocks, j) => storage.writePiece(i + j, blocks)),
            );
          }
        },
      },
      {
        name: 'checkExisting of the 64 MiB file (read + HashPool; per check)',
        opsPerIteration: 1,
        bytesPerOp: storageSize,
        fn: async () => {
          const valid = await checkExisting(fixture.meta, storage, pool);
          if (!valid.complete) throw new BenchError(`resume check found ${valid.count} valid pieces`);
        },
      },
    ];
    const selected = tasks.filter(
      (task) =>
        options.filter === undefined || task.name.toLowerCase().includes(options.filter.toLowerCase()),
    );
    const bench = new Bench({
      time: options.quick ? 250 : 2000,
      iterations: options.quick ? 3 : 10,
      warmupTime: options.quick ? 50 : 250,
      warmupIterations: options.quick ? 1 : 5,
      throws: true,
    });
    const results: MicroResult[] = [];
    for (const task of selected) {
      bench.add(task.name, task.fn);
    }
    bench.addEventListener('cycle', (event) => {
      if (event.task !== undefined) options.onProgress?.(`micro: done: ${event.task.name}`);
    });
    await bench.run();
    for (const task of selected) {
      const result = bench.getTask(task.name)?.result;
      if (result === undefined || !('latency' in result)) {
        throw new BenchError(`micro-benchmark "${task.name}" did not complete (${result?.state})`);
      }
      const medianMs = result.latency.p50 / task.opsPerIteration;
      const opsPerSecond = 1000 / medianMs;
      results.push({
        name: task.name,
        medianMs,
        bestMs: result.latency.min / task.opsPerIteration,
        ...(task.bytesPerOp !== undefined ? { bytesPerOp: task.bytesPerOp } : {}),
        rate:
          opsPerSecond >= 1e6
            ? `${(opsPerSecond / 1e6).toFixed(2)} M/s`
            : `${(opsPerSecond / 1e3).toFixed(1)} k/s`,
        samples: result.latency.samplesCount,
      });
    }
    return results;
  } finally {
    await storage.close();
    await pool.destroy();
    await rm(dir, { recursive: true, force: true });
  }
}
