/**
 * Fast resume in the real `lodestone daemon` (the CLI bundle): 20 torrents (complete ones
 * downloaded from a loopback swarm, partial ones that nobody seeds with a prefix of their file copied in)
 * come back after a SIGTERM restart with no piece hashed (the daemon's debug line
 * `torrent N: ready, V pieces verified, H hashed`, H = 0); a file changed on disk (same size,
 * new mtime, corrupted bytes) re-checks only the pieces touching it, and the corruption is
 * downloaded again byte-exact. Then `kill -9` at random moments during a download: after each
 * restart nothing seen verified before the kill is downloaded again, the end is byte-exact, and
 * the bytes downloaded twice per kill (the seeder's upload counter) are reported.
 */
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { type DaemonProcess, eventually, startDaemonProcess } from '../helpers/daemon-process.js';
import { type SwarmSpec, startDaemonSwarm } from '../helpers/daemon-swarm.js';
import { requireTool } from '../helpers/tools.js';

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Row {
  id: number;
  hashString: string;
  status: number;
  haveValid: number;
  percentDone: number;
}

async function rows(daemon: DaemonProcess): Promise<Row[]> {
  const { torrents } = await daemon.rpc<{ torrents: Row[] }>('torrent-get', {
    fields: ['id', 'hashString', 'status', 'haveValid', 'percentDone'],
  });
  return torrents;
}

/** `torrent N: ready, V pieces verified, H hashed` lines of a daemon's log, by id. */
function readyLines(log: string): Map<number, { verified: number; hashed: number }> {
  const found = new Map<number, { verified: number; hashed: number }>();
  for (const match of log.matchAll(/torrent (\d+): ready, (\d+) pieces verified, (\d+) hashed/g))
    found.set(Number(match[1]), { verified: Number(match[2]), hashed: Number(match[3]) });
  return found;
}

const STATUS_DOWNLOAD = 4;
const STATUS_SEED = 6;

describe('fast resume in the lodestone daemon', { timeout: 110_000 }, () => {
  test('20 torrents back with nothing hashed; a changed file re-checked alone', async (t) => {
    if (!requireTool(t, 'mktorrent') || !requireTool(t, 'opentracker')) return;
    const work = await mkdtemp(join(tmpdir(), 'daemon-resume-'));
    t.after(() => rm(work, { recursive: true, force: true }));
    const specs: SwarmSpec[] = [
      {
        name: 'album',
        files: [
          { path: 'a.bin', size: 200_000 },
          { path: 'b.bin', size: 200_000 },
          { path: 'c.bin', size: 200_000 },
        ],
      },
    ];
    // Torrents 15..19 (t15..t19) are partial: nobody seeds them, a prefix of the file is copied in.
    for (let i = 1; i < 20; i++)
      specs.push({
        name: `t${i}.bin`,
        files: [{ path: `t${i}.bin`, size: 150_000 + i * 7_001 }],
        seed: i < 15,
      });
    const swarm = await startDaemonSwarm(t, work, '127.0.0.78', specs);
    const downloads = join(work, 'downloads');
    await mkdir(downloads, { recursive: true });
    const stateDir = join(work, 'state');
    const start = () =>
      startDaemonProcess(t, {
        stateDir,
        downloadDir: downloads,
        host: '127.0.0.77',
        extra: ['--log-level', 'debug'],
      });
    let daemon = await start();
    const partial = new Map<string, number>();
    for (const [index, torrent] of swarm.torrents.entries()) {
      if (index >= 15) {
        const bytes = [...torrent.files.values()][0]!;
        const prefix = Math.floor(bytes.length * 0.45);
        await writeFile(join(downloads, torrent.facts.name), bytes.subarray(0, prefix));
        partial.set(torrent.facts.infoHashHex, Math.floor(prefix / torrent.facts.pieceLength));
      }
      await daemon.rpc('torrent-add', { metainfo: (await readFile(torrent.torrentPath)).toString('base64') });
    }
    const expectedVerified = (row: Row): number => {
      const torrent = swarm.torrents.find((x) => x.facts.infoHashHex === row.hashString)!;
      return partial.get(row.hashString) ?? torrent.facts.pieceCount;
    };
    await eventually(
      'the complete ones seeding, the partial ones checked',
      async () => {
        const all = await rows(daemon);
        return (
          all.length === 20 &&
          all.every((row) =>
            partial.has(row.hashString)
              ? row.status === STATUS_DOWNLOAD && readyLines(daemon.log()).has(row.id)
              : row.status === STATUS_SEED,
          )
        );
      },
      40_000,
    ).catch(async (error: Error) => {
      throw new Error(`${error.message}: ${JSON.stringify(await rows(daemon))} ${daemon.log().slice(-3000)}`);
    });
    assert.equal((await daemon.stop()).code, 0);

    // Restart: every torrent back, nothing hashed.
    daemon = await start();
    await eventually('20 ready lines', async () => readyLines(daemon.log()).size === 20, 20_000);
    const ready = readyLines(daemon.log());
    const after = await rows(daemon);
    assert.equal(after.length, 20);
    for (const row of after) {
      assert.deepEqual(
        ready.get(row.id),
        { verified: expectedVerified(row), hashed: 0 },
        `torrent ${row.id}`,
      );
    }
    await eventually('states back', async () =>
      (await rows(daemon)).every(
        (row) => row.status === (partial.has(row.hashString) ? STATUS_DOWNLOAD : STATUS_SEED),
      ),
    );
    assert.equal((await daemon.stop()).code, 0);

    // One file of the album changed on disk: same size, new mtime, bytes corrupted in its middle.
    const album = swarm.torrents[0]!;
    const changed = join(downloads, 'album', 'b.bin');
    await delay(20); // a new mtime even on a coarse clock
    const handle = await open(changed, 'r+');
    await handle.write(Buffer.alloc(5000, 0xee), 0, 5000, 100_000);
    await handle.close();
    daemon = await start();
    await eventually('20 ready lines', async () => readyLines(daemon.log()).size === 20, 20_000);
    const again = readyLines(daemon.log());
    const albumRow = (await rows(daemon)).find((row) => row.hashString === album.facts.infoHashHex)!;
    const piece = album.facts.pieceLength;
    // b.bin is bytes 200,000..399,999 of the album: the pieces touching it are re-hashed, no others.
    const touching = Math.floor(399_999 / piece) - Math.floor(200_000 / piece) + 1;
    for (const [id, line] of again) {
      if (id === albumRow.id) assert.equal(line.hashed, touching, 'only the changed file is re-checked');
      else assert.equal(line.hashed, 0, `torrent ${id} not re-hashed`);
    }
    await eventually('the album complete again', async () => {
      const row = (await rows(daemon)).find((x) => x.id === albumRow.id)!;
      return row.percentDone === 1 && row.status === STATUS_SEED;
    });
    assert.ok((await readFile(changed)).equals(album.files.get('album/b.bin')!), 'repaired byte-exact');
    assert.ok((await readFile(join(downloads, 'album', 'a.bin'))).equals(album.files.get('album/a.bin')!));
    assert.equal((await daemon.stop()).code, 0);
  });

  test('kill -9 at random moments: nothing verified is downloaded again, the end byte-exact', async (t) => {
    if (!requireTool(t, 'mktorrent') || !requireTool(t, 'opentracker')) return;
    const work = await mkdtemp(join(tmpdir(), 'daemon-kill9-'));
    t.after(() => rm(work, { recursive: true, force: true }));
    const size = 40_000_000;
    const swarm = await startDaemonSwarm(t, work, '127.0.0.80', [
      { name: 'big.bin', files: [{ path: 'big.bin', size }], pieceLengthExp: 16 },
    ]);
    const big = swarm.torrents[0]!;
    const downloads = join(work, 'downloads');
    const stateDir = join(work, 'state');
    const start = (port?: number) =>
      startDaemonProcess(t, {
        stateDir,
        downloadDir: downloads,
        host: '127.0.0.79',
        extra: ['--log-level', 'debug', ...(port === undefined ? [] : ['--port', String(port)])],
      });
    // Over uTP (the default). A killed uTP peer sends no FIN or RST: the seeder finds out from
    // an ST_RESET when the daemon comes back on the same port (every other restart here, as a
    // daemon with a peer-port setting does), or else from its unanswered data or keep-alive
    // probe (src/net/utp, src/peer/liveness.ts); meanwhile a dead peer that takes nothing loses
    // its unchoke slot after a round (the choker's `stalled`), so the live daemon gets one.
    let daemon = await start();
    const firstPort = daemon.peerPort;
    // Slow enough that the kills land during the download.
    await daemon.rpc('session-set', { 'speed-limit-down': 1500, 'speed-limit-down-enabled': true });
    await daemon.rpc('torrent-add', { metainfo: (await readFile(big.torrentPath)).toString('base64') });
    const began = Date.now();
    const kills: { seenVerified: number; afterRestart: number }[] = [];
    while (kills.length < 20 && Date.now() - began < 55_000) {
      await delay(randomInt(300, 1500));
      const seen = (await rows(daemon))[0]!;
      if (seen.percentDone === 1) break;
      await daemon.kill9();
      daemon = await start(kills.length % 2 === 0 ? firstPort : undefined);
      const back = await eventually(
        'the torrent checked after the restart',
        async () => {
          const row = (await rows(daemon))[0];
          return row && readyLines(daemon.log()).has(row.id) ? row : undefined;
        },
        20_000,
        50,
      );
      kills.push({ seenVerified: seen.haveValid, afterRestart: back.haveValid });
      assert.ok(
        back.haveValid >= seen.haveValid,
        `kill ${kills.length}: ${seen.haveValid} bytes seen verified before, ${back.haveValid} after`,
      );
    }
    assert.ok(kills.length >= 5, `only ${kills.length} kills before the end`);
    await daemon.rpc('session-set', { 'speed-limit-down-enabled': false });
    await eventually('complete', async () => (await rows(daemon))[0]!.percentDone === 1, 30_000).catch(
      async (error: Error) => {
        throw new Error(
          `${error.message} after ${kills.length} kills ${JSON.stringify(kills)}; seeder ${JSON.stringify(swarm.sessions[0]!.stats())}: ${JSON.stringify(await rows(daemon))} ${daemon.log().slice(-2500)}`,
        );
      },
    );
    assert.ok((await readFile(join(downloads, 'big.bin'))).equals(big.files.get('big.bin')!), 'byte-exact');
    const uploaded = swarm.sessions[0]!.stats().uploadedBytes;
    const lossPerKill = Math.max(0, uploaded - size) / kills.length;
    t.diagnostic(
      `${kills.length} kills; seeder uploaded ${uploaded} for ${size}: ${Math.round(lossPerKill)} bytes downloaded again per kill; the seeder still counts ${swarm.sessions[0]!.stats().peers} peers`,
    );
    // What is lost is at most the pieces in flight at the kill (1.5 MB/s limit, 64 KiB pieces).
    assert.ok(lossPerKill <= 2_000_000, `lost ${lossPerKill} bytes per kill`);
    assert.equal((await daemon.stop()).code, 0);
  });
});
