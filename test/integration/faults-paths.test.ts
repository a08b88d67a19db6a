/**
 * The path-traversal corpus, end to end: hostile torrents (built here with
 * `encode`, with real piece hashes) given to `lodestone download`, and the
 * same info dictionaries served as magnet metadata by a scripted peer (the
 * hash matches, so only the path rules can refuse them). Every one must end
 * with exit code 3 and a one-line error naming the unsafe component, before
 * any peer is dialled for data, and nothing may appear on disk: the parent of
 * the output folder is snapshotted before and after, and every escape target
 * lies inside it.
 *
 * aria2 is not used as the seeder here: Lodestone refuses these torrents while
 * parsing, before it would talk to any peer (the tripwire peer proves it).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, type TestContext, test } from 'node:test';
import { type Encodable, encode } from '../../src/bencode/index.js';
import {
  addedPaths,
  hasStackTrace,
  snapshotTree,
  startTripwire,
  stderrLines,
  type Tripwire,
} from '../helpers/faults.js';
import { runCli } from '../helpers/lodestone-cli.js';
import { nextLoopbackAddress } from '../helpers/real-clients/index.js';
import { startScriptedPeer } from '../helpers/scripted-peer.js';

const EXIT_BAD_INPUT = 3; // src/cli/exit-codes.ts ExitCode.badInput
const PIECE = 16 * 1024;

let root = '';
/** The folder whose contents must not change: every escape target points inside it. */
let parent = '';
/** Output folder three levels below `parent`, so up to three ".." stay inside the snapshot. */
let outDir = '';
let tripwire: Tripwire | undefined;
const data = randomBytes(3 * PIECE + 100);

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'lodestone-paths-'));
  parent = join(root, 'parent');
  outDir = join(parent, 'one', 'two', 'out');
  await mkdir(outDir, { recursive: true });
  tripwire = await startTripwire(nextLoopbackAddress());
});

after(async () => {
  await tripwire?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

function pieceHashes(bytes: Buffer): Buffer {
  const hashes: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += PIECE) {
    hashes.push(
      createHash('sha1')
        .update(bytes.subarray(offset, offset + PIECE))
        .digest(),
    );
  }
  return Buffer.concat(hashes);
}

/** A single-file info dictionary named `name` (plus extra keys), with real hashes of `data`. */
function singleFile(name: Encodable, extra: Record<string, Encodable> = {}): Record<string, Encodable> {
  return { name, 'piece length': PIECE, pieces: pieceHashes(data), length: data.length, ...extra };
}

/** A multi-file info dictionary: a harmless file, then one at `path`, sharing `data`. */
function multiFile(path: Encodable, name: Encodable = 'set'): Record<string, Encodable> {
  return {
    name,
    'piece length': PIECE,
    pieces: pieceHashes(data),
    files: [
      { length: 100, path: ['ok.txt'] },
      { length: data.length - 100, path },
    ],
  };
}

interface HostileCase {
  title: string;
  /** The info dictionary; `target` is a path inside the snapshotted folder (for absolute paths). */
  info: (target: string) => Record<string, Encodable>;
  /** Text the error line must contain: the unsafe component as the message prints it. */
  names: (target: string) => string;
}

const cases: HostileCase[] = [
  { title: 'a ".." component', info: () => multiFile(['..', 'evil']), names: () => '".."' },
  { title: 'name "../evil"', info: () => singleFile('../evil'), names: () => '"../evil"' },
  {
    title: 'absolute path as one component',
    info: (target) => multiFile([join(target, 'abs')]),
    names: (target) => `"${join(target, 'abs')}"`,
  },
  {
    title: 'absolute path split (empty first component)',
    info: () => multiFile(['', 'tmp', 'x']),
    names: () => '""',
  },
  {
    title: '"a/../../b" as components',
    info: () => multiFile(['a', '..', '..', '..', 'b']),
    names: () => '".."',
  },
  {
    title: 'backslashes "a\\..\\..\\b"',
    info: () => multiFile(['a\\..\\..\\b']),
    names: () => '"a\\..\\..\\b"',
  },
  {
    title: 'absolute name',
    info: (target) => singleFile(join(target, 'abs-name')),
    names: (target) => `"${join(target, 'abs-name')}"`,
  },
  { title: 'NUL inside a name', info: () => singleFile('evil\0.txt'), names: () => '"evil\\x00.txt"' },
  {
    title: 'NUL inside a path component',
    info: () => multiFile(['sub', 'x\0../../y']),
    names: () => '"x\\x00../../y"',
  },
  { title: 'torrent name ".." (multi-file)', info: () => multiFile(['x.bin'], '..'), names: () => '".."' },
  {
    title: 'name.utf-8 "../evil" behind a harmless name',
    info: () => singleFile('ok', { 'name.utf-8': '../evil' }),
    names: () => '"../evil"',
  },
  { title: 'drive letter "C:"', info: () => multiFile(['C:', 'evil']), names: () => '"C:"' },
];

async function assertRefused(
  t: TestContext,
  source: string,
  hostile: HostileCase,
  extra: string[],
): Promise<void> {
  const before = await snapshotTree(parent);
  const run = runCli([
    'download',
    source,
    '-o',
    outDir,
    '--json',
    '--port',
    '0',
    '--bind',
    nextLoopbackAddress(),
    ...extra,
  ]);
  t.after(() => run.stop());
  const result = await run.exited;
  assert.equal(result.code, EXIT_BAD_INPUT, `exit code 3; stderr: ${result.stderr}`);
  const lines = stderrLines(result.stderr);
  assert.equal(lines.length, 1, `one line on stderr: ${result.stderr}`);
  assert.match(lines[0]!, /^lodestone: error: .*unsafe path/, lines[0]);
  const names = hostile.names(parent);
  assert.ok(lines[0]!.includes(names), `names ${names}: ${lines[0]}`);
  assert.ok(!hasStackTrace(result.stderr), 'no stack trace');
  assert.ok(!run.events.some((event) => event.type === 'start'), 'the download never started');
  assert.deepEqual(addedPaths(before, await snapshotTree(parent)), [], 'nothing created on disk');
}

describe('hostile paths end to end', { timeout: 120_000 }, () => {
  for (const hostile of cases) {
    test(`.torrent: ${hostile.title}`, async (t) => {
      const torrentPath = join(root, 'hostile.torrent');
      await writeFile(torrentPath, encode({ info: hostile.info(parent) }));
      const dialsBefore = tripwire!.connections;
      await assertRefused(t, torrentPath, hostile, ['--peer', `${tripwire!.host}:${tripwire!.port}`]);
      assert.equal(tripwire!.connections, dialsBefore, 'no peer was dialled');
    });
  }

  for (const hostile of cases) {
    test(`magnet metadata: ${hostile.title}`, async (t) => {
      const infoBytes = encode(hostile.info(parent));
      const infoHash = createHash('sha1').update(infoBytes).digest();
      const peer = await startScriptedPeer({ host: nextLoopbackAddress(), infoHash, metadata: infoBytes });
      t.after(() => peer.close());
      const magnet = `magnet:?xt=urn:btih:${infoHash.toString('hex')}&x.pe=${peer.host}:${peer.port}`;
      await assertRefused(t, magnet, hostile, []);
      assert.ok(peer.blocksServed > 0, 'the metadata really came from the peer');
    });
  }
});
