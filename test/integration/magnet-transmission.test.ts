/**
 * A magnet fetched from Transmission 3.00 (docs/magnet-from-transmission.md): what is on
 * Lodestone's side of the ~20 s, seen in `--trace` as protocol facts rather than times.
 * Transmission sends its queued messages in batches (one metadata block per 500 ms pulse, a
 * batch flushed 2 s after it started) and unchokes only on its 10 s rechoke tick, so every
 * round trip Lodestone adds costs a Transmission pulse: our extension handshake goes out with
 * the BitTorrent handshake, every metadata block is asked for in one go (before the first one
 * comes back), and `interested` goes out as soon as the data connection knows what the peer has.
 * The phase times are printed as diagnostics (never asserted: speed is the benchmark's job).
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, type TestContext, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { LOCAL_EXTENSION_IDS } from '../../src/wire/index.js';
import { runCli } from '../helpers/lodestone-cli.js';
import {
  type MagnetFixture,
  startMagnetFixture,
  stopMagnetFixture,
  trackerMagnet,
} from '../helpers/magnet-fixture.js';
import { nextLoopbackAddress, startTransmissionSeeder } from '../helpers/real-clients/index.js';
import { requireTool, toolAvailable } from '../helpers/tools.js';

const MiB = 1024 * 1024;
const BLOCK = 16 * 1024;
const TOOLS = ['opentracker', 'mktorrent', 'transmission-daemon'];
/** The whole download's bound (it takes ~20 s); generous, it only turns a stall into a failure. */
const FINISH_WITHIN_MS = 60_000;

let fixture: MagnetFixture | undefined;

before(async () => {
  if (!TOOLS.every(toolAvailable)) return;
  fixture = await startMagnetFixture('lodestone-magnet-tr-', [{ path: 'one.bin', size: 27 * MiB + 321 }]);
});

after(() => stopMagnetFixture(fixture));

function ready(t: TestContext): MagnetFixture | undefined {
  for (const tool of TOOLS) if (!requireTool(t, tool)) return undefined;
  assert.ok(fixture);
  return fixture;
}

/** One stderr line of `--trace`/`--verbose`, with the milliseconds since the CLI started. */
interface Line {
  at: number;
  text: string;
}

function indexOf(lines: readonly Line[], pattern: RegExp, from = 0): number {
  for (let i = from; i < lines.length; i++) if (pattern.test(lines[i]!.text)) return i;
  return -1;
}

describe('a magnet from Transmission 3.00', { timeout: 180_000 }, () => {
  test('extension handshake at once, every metadata block asked in one go, interested before the unchoke', async (t) => {
    const f = ready(t);
    if (!f) return;
    const seeder = await startTransmissionSeeder({
      torrentPath: f.torrent,
      dataDir: f.dataDir,
      address: nextLoopbackAddress(),
    });
    t.after(() => seeder.stop());
    await seeder.waitSeeding(60_000);
    await f.tracker.waitForPeer(f.infoHashHex, seeder.address, seeder.port, 60_000);
    const out = await mkdtemp(join(f.root, 'out-'));
    const magnet = trackerMagnet(f);
    const run = runCli([
      'download',
      magnet,
      '-o',
      out,
      '--json',
      '--trace',
      '--port',
      '0',
      '--bind',
      nextLoopbackAddress(),
    ]);
    t.after(() => run.stop());
    const startedAt = Date.now();
    const lines: Line[] = [];
    let partial = '';
    // The trace is one stream (stderr), so its order is the order things happened in.
    run.child.stderr!.on('data', (chunk: string) => {
      const at = Date.now() - startedAt;
      const split = (partial + chunk).split('\n');
      partial = split.pop() ?? '';
      for (const text of split) lines.push({ at, text });
    });
    // ~20 s at Transmission's pace (its 10 s rechoke tick included); a stall fails here, not by the suite's timeout.
    const deadline = new AbortController();
    const result = await Promise.race([
      run.exited,
      sleep(FINISH_WITHIN_MS, undefined, { signal: deadline.signal }).then(
        () => undefined,
        () => undefined, // aborted: the CLI exited first
      ),
    ]);
    deadline.abort();
    assert.ok(
      result,
      `the download finished within ${FINISH_WITHIN_MS / 1000} s; trace tail:\n${lines
        .slice(-30)
        .map((l) => l.text)
        .join('\n')}`,
    );
    assert.equal(result.code, 0, result.stderr.slice(-3000));
    const peer = `${seeder.address}:${seeder.port}`.replaceAll('.', '\\.');
    const mine = lines.filter((l) => new RegExp(` ${peer}( |$)`).test(l.text));
    const blocks = Math.ceil(f.infoBytes / BLOCK);

    // Metadata phase: the first message we send is our extension handshake.
    const connected = indexOf(mine, /connected \(metadata,/);
    assert.ok(connected >= 0, 'the metadata phase connected to Transmission');
    const firstOut = indexOf(mine, /^-> /, connected);
    assert.match(
      mine[firstOut]!.text,
      /extended id=0 handshake/,
      'our first message is the extension handshake',
    );
    const theirs = indexOf(mine, /^<- .* extended id=0 handshake/, connected);
    assert.ok(theirs > firstOut, 'ours went out before theirs came');

    // Every block requested before the first one arrived: Transmission serves one block per pulse
    // and flushes a batch 2 s after it started, so one request at a time costs ~2 s per block.
    // Data comes on our ut_metadata id; requests go to Transmission's (3 in Transmission 3.00).
    const firstData = indexOf(
      mine,
      new RegExp(`^<- .* extended id=${LOCAL_EXTENSION_IDS.ut_metadata} `),
      theirs,
    );
    assert.ok(firstData > 0, 'a metadata block arrived');
    const requestsBefore = mine
      .slice(theirs, firstData)
      .filter((l) => /^-> .* extended id=3 /.test(l.text)).length;
    assert.equal(
      requestsBefore,
      blocks,
      `all ${blocks} metadata blocks were requested before the first arrived`,
    );
    const done = indexOf(mine, /disconnected: metadata phase over/, firstData);
    assert.ok(done > 0, 'the metadata phase ended');

    // Data phase: interested goes out as soon as the peer's have-all/bitfield is in.
    const dataConnected = indexOf(mine, /connected \(outbound,/, done);
    const has = indexOf(mine, /^<- .* (have-all|bitfield)/, dataConnected);
    const interested = indexOf(mine, /^-> .* interested$/, has);
    const unchoke = indexOf(mine, /^<- .* unchoke$/, has);
    assert.ok(dataConnected > 0 && has > 0 && interested > 0 && unchoke > 0, 'the data phase ran');
    assert.ok(interested < unchoke, 'interested was sent before the unchoke');
    assert.equal(
      mine.slice(has + 1, interested).filter((l) => /^-> /.test(l.text)).length,
      0,
      'interested is the first message after the peer said what it has',
    );

    const doneEvent = run.events.find((e) => e.type === 'done');
    assert.ok(doneEvent, 'the download finished');
    const expected = await readFile(f.content.files[0]!.absolutePath);
    assert.ok((await readFile(join(out, 'mag', 'one.bin'))).equals(expected), 'byte-identical');
    t.diagnostic(
      `phases (ms since start): metadata connected ${mine[connected]!.at}, their ext handshake ${mine[theirs]!.at}, ` +
        `first metadata block ${mine[firstData]!.at}, metadata done ${mine[done]!.at}, data connected ${mine[dataConnected]!.at}, ` +
        `unchoke ${mine[unchoke]!.at}, done ${Date.now() - startedAt}`,
    );
  });
});
