/**
 * Untrusted text on the terminal (issue 15): a torrent, a magnet link and a tracker carry escape
 * sequences (OSC "set title" ESC ]0;…BEL, "clear screen" ESC [2J, the one-character C1 CSI U+009B,
 * the right-to-left override U+202E, tabs and line breaks). Whatever the CLI prints for people
 * (`info`, `download -v` logs, stall notes, warnings, errors) holds none of them raw; with --json
 * the exact text comes through, JSON-escaped. Addresses: 127.0.3.x (tracker .1, Lodestone .10).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, type TestContext, test } from 'node:test';
import { encode } from '../../src/bencode/index.js';
import { type CliEvent, runCli } from '../helpers/lodestone-cli.js';

/** What must never reach a terminal raw (line feeds excepted: they end our own lines). */
const RAW_CONTROL =
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200b\u200e\u200f\u2028-\u202e\u2060\u2066-\u2069\ufeff]/u;
const TITLE = '\x1b]0;pwned\x07';
const CLEAR = '\x1b[2J\x1b[H';
const CSI = '\u009b31m';
const RLO = '\u202e';
const HOSTILE = `${TITLE}${CLEAR}${CSI}${RLO}exe.txt\tcol\r\nnext line`;
const TRACKER_HOST = '127.0.3.1';
const CLIENT_HOST = '127.0.3.10';
const PIECE = 16 * 1024;

/** The first raw control character in `text`, shown as U+XXXX with its neighbourhood. */
function rawControl(text: string): string | undefined {
  const match = RAW_CONTROL.exec(text);
  if (!match) return undefined;
  const at = match.index;
  return `U+${match[0].charCodeAt(0).toString(16).padStart(4, '0')} at ${at}: ${JSON.stringify(text.slice(Math.max(0, at - 40), at + 40))}`;
}

function assertNoRawControl(what: string, text: string): void {
  assert.equal(rawControl(text), undefined, `${what} holds a raw control character`);
}

/** A two-file torrent whose text fields are hostile, with bytes after the root dictionary. */
function hostileTorrent(announce: string): Buffer {
  const lengths = [1000, 2000];
  const pieces = createHash('sha1').update(Buffer.alloc(3000)).digest();
  const root = encode({
    announce,
    'announce-list': [[announce], [`http://${TRACKER_HOST}:1/${TITLE}`]],
    comment: `comment ${HOSTILE}`,
    'created by': `maker ${CSI}${RLO}`,
    'creation date': 1_700_000_000_123, // milliseconds: a LODESTONE_WARN_CREATION_DATE warning
    'url-list': [`http://${TRACKER_HOST}:1/seed/${CLEAR}${RLO}`],
    info: {
      name: `folder ${HOSTILE}`,
      'piece length': PIECE,
      pieces,
      files: [
        { length: lengths[0]!, path: [`a ${TITLE}.bin`] },
        { length: lengths[1]!, path: [`b${RLO}gpj.exe`] },
      ],
    },
  });
  return Buffer.concat([root, Buffer.from('\ntrailing')]); // LODESTONE_WARN_TRAILING_DATA
}

/**
 * An HTTP tracker on loopback that answers every announce with status 400, a status text full of
 * escapes and a bencoded failure reason full of them too. Plain TCP: Node's HTTP server refuses
 * control characters in a status text, a hostile tracker does not.
 */
async function startHostileTracker(t: TestContext): Promise<{ url: string; status: string }> {
  const reason = `denied ${HOSTILE}`;
  const status = `Bad ${TITLE}${CLEAR}\u009b2J`;
  const body = encode({ 'failure reason': reason });
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.once('data', () => {
      socket.end(
        Buffer.concat([
          Buffer.from(
            `HTTP/1.1 400 ${status}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
            'latin1',
          ),
          body,
        ]),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, TRACKER_HOST, resolve));
  t.after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const port = (server.address() as { port: number }).port;
  // A query string with escapes too: the URL is shown in every tracker line.
  return { url: `http://${TRACKER_HOST}:${port}/announce?k=${TITLE}${RLO}`, status };
}

describe('untrusted text is escaped on the terminal, exact in --json', { timeout: 60_000 }, () => {
  let work = '';

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'lodestone-terminal-text-'));
  });

  after(async () => {
    if (work !== '') await rm(work, { recursive: true, force: true });
  });

  test('lodestone info: name, comment, created by, trackers, web seeds, file names', async (t) => {
    const path = join(work, 'info.torrent');
    const announce = `http://${TRACKER_HOST}:1/announce?${CLEAR}`;
    await writeFile(path, hostileTorrent(announce));

    const human = runCli(['info', path]);
    t.after(() => human.stop());
    const { code, stdout, stderr } = await human.exited;
    assert.equal(code, 0, stderr);
    assertNoRawControl('stdout', stdout);
    assertNoRawControl('stderr', stderr);
    // Shown, escaped, where it was: the user sees what the torrent holds.
    assert.match(
      stdout,
      /^Comment: +comment \\x1b\]0;pwned\\x07\\x1b\[2J\\x1b\[H\\x9b31m\\u202eexe\.txt\\x09col\\x0d\\x0anext line$/m,
    );
    assert.match(stdout, /^Created by: +maker \\x9b31m\\u202e$/m);
    assert.match(stdout, /tier 1: http:\/\/127\.0\.3\.1:1\/announce\?\\x1b\[2J\\x1b\[H$/m);
    assert.match(stdout, /^Web seeds: .*\/seed\/\\x1b\[2J\\x1b\[H\\u202e$/m);
    assert.match(stdout, /b\\u202egpj\.exe/);
    assert.match(stdout, /^Warning: /m);

    const json = runCli(['info', '--json', path]);
    t.after(() => json.stop());
    const out = await json.exited;
    assert.equal(out.code, 0, out.stderr);
    const info = JSON.parse(out.stdout) as {
      comment: string;
      createdBy: string;
      trackers: string[][];
      webSeeds: string[];
      renamedFiles: { originalPath: string }[];
    };
    assert.equal(info.comment, `comment ${HOSTILE}`);
    assert.equal(info.createdBy, `maker ${CSI}${RLO}`);
    assert.deepEqual(info.trackers[0], [announce]);
    assert.deepEqual(info.webSeeds, [`http://${TRACKER_HOST}:1/seed/${CLEAR}${RLO}`]);
    assert.ok(
      info.renamedFiles.some((file) => file.originalPath.includes(`b${RLO}gpj.exe`)),
      JSON.stringify(info.renamedFiles),
    );
  });

  test('a magnet link that is refused: the error line is escaped, the --json error exact', async (t) => {
    const magnet = `magnet:?xt=urn:btih:${RLO}${CSI}deadbeef`;
    const human = runCli(['info', magnet]);
    t.after(() => human.stop());
    const { code, stdout, stderr } = await human.exited;
    assert.equal(code, 3, stderr);
    assertNoRawControl('stderr', stderr);
    assertNoRawControl('stdout', stdout);
    assert.match(stderr, /^lodestone: error: .*\\u202e\\x9b31mdeadbeef/m);

    const json = runCli(['info', '--json', magnet]);
    t.after(() => json.stop());
    const out = await json.exited;
    assert.equal(out.code, 3);
    const error = JSON.parse(out.stdout.trim().split('\n').at(-1)!) as { type: string; message: string };
    assert.equal(error.type, 'error');
    assert.ok(error.message.includes(`${RLO}${CSI}deadbeef`), error.message);
  });

  test('download -v: tracker failure reason, status text, URL, stall note and warnings', async (t) => {
    const tracker = await startHostileTracker(t);
    const path = join(work, 'download.torrent');
    await writeFile(path, hostileTorrent(tracker.url));
    const env = { LODESTONE_STALL_NOTICE_MS: '200' };
    const args = ['download', path, '-o', join(work, 'out'), '--bind', CLIENT_HOST, '--port', '0'];

    const human = runCli([...args, '-v'], { env });
    t.after(() => human.stop());
    // Wait (bounded) until both the tracker's failure and the stall note that quotes it are out.
    const deadline = Date.now() + 20_000;
    let seen = '';
    human.child.stderr!.on('data', (chunk: string) => {
      seen += chunk;
    });
    human.child.stdout!.on('data', (chunk: string) => {
      seen += chunk;
    });
    while (!(/tracker .* failed: /.test(seen) && /stalled: /.test(seen)) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await human.stop();
    const { stdout, stderr } = await human.exited;
    assertNoRawControl('stdout', stdout);
    assertNoRawControl('stderr', stderr);
    assert.match(stderr, /^lodestone: warning: .*bytes after/m);
    assert.match(stderr, /^lodestone: warning: renamed "folder \\x1b\]0;pwned\\x07/m);
    assert.match(
      stderr,
      /^tracker http:\/\/127\.0\.3\.1:\d+\/announce\?k=\\x1b\]0;pwned\\x07\\u202e failed: .*denied .*\\x9b31m\\u202eexe\.txt.*HTTP 400 Bad \\x1b\]0;pwned\\x07\\x1b\[2J\\x1b\[H\\x9b2J/m,
    );
    assert.match(stdout, /stalled: .*denied .*\\x9b31m\\u202eexe\.txt/);

    const json = runCli([...args, '--json'], { env });
    t.after(() => json.stop());
    const failed = await json.waitFor(
      (event) => event.type === 'tracker-error' && event.url === tracker.url,
      20_000,
    );
    const warned = json.events.find((event: CliEvent) => event.type === 'torrent-warnings');
    await json.stop();
    // The status text exactly; the failure reason as the tracker client keeps it (it already turns
    // C0 controls into spaces, src/tracker/announce-common.ts), C1 and bidi characters exact.
    assert.ok(String(failed.message).includes(`${CSI}${RLO}exe.txt`), String(failed.message));
    assert.ok(String(failed.message).includes(tracker.status), String(failed.message));
    assert.deepEqual((warned?.warnings as { code: string }[] | undefined)?.map((w) => w.code).sort(), [
      'LODESTONE_WARN_CREATION_DATE',
      'LODESTONE_WARN_TRAILING_DATA',
    ]);
  });
});
