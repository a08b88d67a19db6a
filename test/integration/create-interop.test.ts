/**
 * Torrents made by createTorrent agree with the reference tools: transmission-show
 * prints the same info-hash, and mktorrent makes a torrent with the SAME info-hash
 * from the same content and piece length (same file order, same info keys).
 * The `lodestone create` command is checked in-process and through the compiled CLI.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { CreateOptions } from '../../src/cli/commands/create.js';
import { createTorrent } from '../../src/create/index.js';
import { parseTorrent } from '../../src/metainfo/index.js';
import { isCI, requireTool } from '../helpers/tools.js';

const run = promisify(execFile);
const TRACKER = 'http://127.0.0.1:6969/announce';
const CLI = fileURLToPath(new URL('../../cli/lodestone.js', import.meta.url));
const PIECE_EXPONENT = 15; // 32 KiB: several pieces, some spanning file boundaries

/** Relative path → size; hidden, empty and names whose order differs by strcmp vs components. */
const FILES: Record<string, number> = {
  '.hidden-config': 77,
  'a-c/x.bin': 40_001,
  'a/b.bin': 70_003,
  'a/empty': 0,
  a0: 12_345,
  'B upper.txt': 5,
  'sub/deeper/c.dat': 33_333,
  'sub/deeper/also-empty': 0,
  'sub/z': 100_000,
};

let workdir: string;
let folder: string;

before(async () => {
  workdir = await mkdtemp(join(tmpdir(), 'lodestone-create-interop-'));
  folder = join(workdir, 'shared folder');
  for (const [path, size] of Object.entries(FILES)) {
    await mkdir(dirname(join(folder, path)), { recursive: true });
    await writeFile(join(folder, path), randomBytes(size));
  }
  // A link to a file inside the folder: mktorrent follows it, and so do we.
  await symlink(join('sub', 'z'), join(folder, 'link-to-z'));
});

after(async () => {
  await rm(workdir, { recursive: true, force: true });
});

async function mktorrent(input: string, output: string, extra: string[] = []): Promise<Buffer> {
  await run('mktorrent', ['-a', TRACKER, '-l', String(PIECE_EXPONENT), '-o', output, ...extra, input]);
  return readFile(output);
}

async function transmissionShowHash(torrentPath: string): Promise<string> {
  const { stdout } = await run('transmission-show', [torrentPath]);
  const match = /^\s*Hash(?: v1)?: ([0-9a-f]{40})$/m.exec(stdout);
  assert.ok(match, `no hash in transmission-show output:\n${stdout}`);
  return match[1]!;
}

describe('createTorrent against mktorrent and transmission-show', () => {
  test('a folder: mktorrent makes the same info-hash, transmission-show prints it', async (t: TestContext) => {
    if (!requireTool(t, 'mktorrent') || !requireTool(t, 'transmission-show')) return;
    const ours = await createTorrent(folder, { trackers: [[TRACKER]], pieceLength: 2 ** PIECE_EXPONENT });
    const theirs = parseTorrent(await mktorrent(folder, join(workdir, 'mktorrent-folder.torrent')));
    assert.deepEqual(
      ours.meta.files.map((file) => file.path.join('/')),
      theirs.files.map((file) => file.path.join('/')),
    );
    assert.equal(ours.meta.infoHashHex, theirs.infoHashHex);
    assert.ok(ours.meta.files.some((file) => file.path.at(-1) === '.hidden-config'));

    const oursPath = join(workdir, 'ours-folder.torrent');
    await writeFile(oursPath, ours.torrent);
    assert.equal(await transmissionShowHash(oursPath), ours.meta.infoHashHex);
  });

  test('a single file: same info-hash as mktorrent', async (t: TestContext) => {
    if (!requireTool(t, 'mktorrent') || !requireTool(t, 'transmission-show')) return;
    const file = join(folder, 'sub', 'z');
    const ours = await createTorrent(file, { trackers: [[TRACKER]], pieceLength: 2 ** PIECE_EXPONENT });
    const theirs = parseTorrent(await mktorrent(file, join(workdir, 'mktorrent-single.torrent')));
    assert.equal(ours.meta.infoHashHex, theirs.infoHashHex);
    const oursPath = join(workdir, 'ours-single.torrent');
    await writeFile(oursPath, ours.torrent);
    assert.equal(await transmissionShowHash(oursPath), ours.meta.infoHashHex);
  });

  test('private: same info-hash as mktorrent -p; transmission-show sees tiers and privacy', async (t: TestContext) => {
    if (!requireTool(t, 'mktorrent') || !requireTool(t, 'transmission-show')) return;
    const tiers = [[TRACKER], ['udp://127.0.0.1:6969']];
    const ours = await createTorrent(folder, {
      trackers: tiers,
      pieceLength: 2 ** PIECE_EXPONENT,
      private: true,
    });
    const theirs = parseTorrent(await mktorrent(folder, join(workdir, 'mktorrent-private.torrent'), ['-p']));
    assert.equal(ours.meta.infoHashHex, theirs.infoHashHex);
    const oursPath = join(workdir, 'ours-private.torrent');
    await writeFile(oursPath, ours.torrent);
    const { stdout } = await run('transmission-show', [oursPath]);
    assert.match(stdout, /Private torrent/);
    assert.match(stdout, /Tier #2\s+udp:\/\/127\.0\.0\.1:6969/);
  });
});

/**
 * Runs createCommand in a child process: the test runner reports through this
 * process's stdout, so the command's output cannot be captured in-process.
 */
const DRIVER = `
const { createCommand } = await import(process.argv[2]);
try {
  process.exitCode = await createCommand(process.argv[3], JSON.parse(process.argv[4]));
} catch (error) {
  process.stderr.write(JSON.stringify({ code: error.code, message: error.message }));
  process.exitCode = 1;
}`;
const COMMAND_MODULE = new URL('../../src/cli/commands/create.js', import.meta.url).href;

async function runCommand(
  input: string,
  options: CreateOptions,
): Promise<{ code: number; out: string; err: string }> {
  // A file, not --eval: hash workers inherit execArgv, and --input-type breaks them.
  const driver = join(workdir, 'driver.mjs');
  await writeFile(driver, DRIVER);
  const args = [driver, COMMAND_MODULE, input, JSON.stringify(options)];
  const result = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 60_000, cwd: workdir });
  return { code: result.status ?? -1, out: result.stdout, err: result.stderr };
}

function errorCode(result: { err: string }): string | undefined {
  return result.err === '' ? undefined : (JSON.parse(result.err) as { code?: string }).code;
}

describe('createCommand', () => {
  test('writes the torrent and prints its path, info-hash and magnet', async () => {
    const output = join(workdir, 'command.torrent');
    const result = await runCommand(folder, { tracker: [TRACKER], pieceLength: '64KiB', output });
    assert.equal(result.code, 0, result.err);
    assert.equal(result.err, '');
    const meta = parseTorrent(await readFile(output));
    assert.equal(meta.pieceLength, 64 * 1024);
    assert.deepEqual(meta.announceTiers, [[TRACKER]]);
    assert.ok(result.out.includes(`Torrent:      ${output}\n`), result.out);
    assert.ok(result.out.includes(`Info-hash:    ${meta.infoHashHex}\n`), result.out);
    const magnet = `Magnet:       magnet:?xt=urn:btih:${meta.infoHashHex}&dn=shared%20folder&tr=`;
    assert.ok(result.out.includes(magnet), result.out);

    const again = await runCommand(folder, { tracker: [TRACKER], output });
    assert.equal(errorCode(again), 'LODESTONE_ERR_USAGE');
    assert.match(again.err, /already exists \(use --force/);
    const forced = await runCommand(folder, { output, force: true, quiet: true });
    assert.equal(forced.code, 0, forced.err);
    assert.equal(forced.out, '');
    assert.equal(parseTorrent(await readFile(output)).announceTiers.length, 0);
  });

  test('the default output is <name>.torrent in the working folder', async () => {
    const result = await runCommand(folder, { quiet: true });
    assert.equal(result.code, 0, result.err);
    const meta = parseTorrent(await readFile(join(workdir, 'shared folder.torrent')));
    assert.equal(meta.name, 'shared folder');
  });

  test('--json prints the summary; comma-separated -t URLs share a tier', async () => {
    const output = join(workdir, 'json.torrent');
    const result = await runCommand(folder, {
      tracker: [`${TRACKER},http://127.0.0.2:6969/announce`, 'udp://127.0.0.1:6969'],
      webSeed: ['http://127.0.0.1:8080/'],
      private: true,
      comment: 'hello',
      date: false,
      output,
      json: true,
    });
    assert.equal(result.code, 0, result.err);
    const summary = JSON.parse(result.out) as Record<string, unknown>;
    const meta = parseTorrent(await readFile(output));
    assert.deepEqual(summary, {
      torrent: output,
      infoHash: meta.infoHashHex,
      magnet: summary.magnet,
      pieceLength: meta.pieceLength,
      pieceCount: meta.pieceCount,
      totalLength: meta.totalLength,
    });
    assert.match(String(summary.magnet), new RegExp(`^magnet:\\?xt=urn:btih:${meta.infoHashHex}&`));
    assert.deepEqual(meta.announceTiers, [
      [TRACKER, 'http://127.0.0.2:6969/announce'],
      ['udp://127.0.0.1:6969'],
    ]);
    assert.deepEqual(meta.webSeeds, ['http://127.0.0.1:8080/']);
    assert.equal(meta.private, true);
    assert.equal(meta.comment, 'hello');
    assert.equal(meta.creationDate, undefined);
  });

  test('refuses an output inside the folder and a bad piece length; a missing input is an I/O error', async () => {
    const inside = await runCommand(folder, { output: join(folder, 'x.torrent') });
    assert.equal(errorCode(inside), 'LODESTONE_ERR_USAGE');
    const badPiece = await runCommand(folder, { output: join(workdir, 'bad.torrent'), pieceLength: '1000' });
    assert.equal(errorCode(badPiece), 'LODESTONE_ERR_USAGE');
    const missing = await runCommand(join(workdir, 'missing'), { output: join(workdir, 'missing.torrent') });
    assert.equal(errorCode(missing), 'LODESTONE_ERR_IO');
  });
});

/** True when the compiled CLI knows `create`; otherwise skips locally and fails in CI. */
function requireCreateCommand(t: TestContext): boolean {
  const probe = spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8', timeout: 30_000 });
  if (/^\s+create\b/m.test(probe.stdout)) return true;
  if (isCI()) throw new Error('`create` is not registered in src/cli/main.ts');
  t.skip('`create` is not registered in src/cli/main.ts yet');
  return false;
}

describe('lodestone create (compiled CLI)', () => {
  test('creates a torrent and exits 0', async (t: TestContext) => {
    if (!requireCreateCommand(t)) return;
    const output = join(workdir, 'cli.torrent');
    const result = spawnSync(
      process.execPath,
      [CLI, 'create', folder, '-t', TRACKER, '-o', output, '--piece-length', '64KiB'],
      { encoding: 'utf8', timeout: 60_000, cwd: workdir },
    );
    assert.equal(result.status, 0, result.stderr);
    const meta = parseTorrent(await readFile(output));
    assert.equal(meta.pieceLength, 64 * 1024);
    assert.match(result.stdout, new RegExp(`Info-hash: +${meta.infoHashHex}`));
    assert.match(result.stdout, /Magnet: +magnet:\?xt=urn:btih:/);
  });

  test('a missing input prints one error line and exits non-zero', (t: TestContext) => {
    if (!requireCreateCommand(t)) return;
    const result = spawnSync(process.execPath, [CLI, 'create', join(workdir, 'nope')], {
      encoding: 'utf8',
      timeout: 60_000,
      cwd: workdir,
    });
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /^lodestone: error: cannot read .*nope: no such file or folder\n$/);
    assert.equal(result.stdout, '');
  });
});
