/**
 * `torrent-add` of a torrent whose data is already in place answers at once and checks later, as
 * Transmission does: over RPC to the real daemon process, 16 adds (4 MiB each, started): every
 * answer comes while its torrent is still waiting for its check (status 1) or checking (2), never
 * after; the checks are queued (the client checks at most 8 torrents at a time: never more than 8
 * with status 2, the others show 1), and every torrent ends seeding (6) with all its pieces.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { trackedTorrentOf } from '../helpers/daemon-fixture.js';
import { startDaemonProcess } from '../helpers/daemon-process.js';

const HOST = '127.0.0.73';
const TORRENTS = 16;
const SIZE = 4 * 1024 * 1024;
/** The client's bound on torrents checking at once (src/session/start-gate.ts via client-shared). */
const CHECKS_AT_ONCE = 8;

interface Row {
  id: number;
  status: number;
  percentDone: number;
}

describe('torrent-add answers before its check; checks are queued', { timeout: 90_000 }, () => {
  test('16 adds with data in place: status 1/2 at each answer, at most 8 checking, all seeding', async (t) => {
    const root = await mkdtemp(join(tmpdir(), 'lodestone-add-check-'));
    t.after(() => rm(root, { recursive: true, force: true }));
    const stateDir = join(root, 'state');
    const downloadDir = join(root, 'downloads');
    await mkdir(downloadDir, { recursive: true });
    const torrents = [];
    for (let i = 0; i < TORRENTS; i++) {
      const data = randomBytes(SIZE);
      await writeFile(join(downloadDir, `c${i}.bin`), data);
      torrents.push(trackedTorrentOf(`c${i}.bin`, data, 256 * 1024));
    }
    const daemon = await startDaemonProcess(t, { stateDir, downloadDir, host: HOST });
    const get = async (): Promise<Row[]> =>
      (await daemon.rpc<{ torrents: Row[] }>('torrent-get', { fields: ['id', 'status', 'percentDone'] }))
        .torrents;

    const atAnswer: number[] = [];
    for (const { bytes } of torrents) {
      const added = await daemon.rpc<{ 'torrent-added': { id: number } }>('torrent-add', {
        metainfo: Buffer.from(bytes).toString('base64'),
        paused: false,
      });
      const id = added['torrent-added'].id;
      const row = (
        await daemon.rpc<{ torrents: Row[] }>('torrent-get', { ids: [id], fields: ['id', 'status'] })
      ).torrents[0]!;
      atAnswer.push(row.status);
    }
    assert.deepEqual(
      atAnswer.filter((status) => status !== 1 && status !== 2),
      [],
      `every add answered before its check ended (statuses at the answers: ${atAnswer.join(',')})`,
    );
    const first = await get();
    const counts = (rows: Row[], status: number) => rows.filter((row) => row.status === status).length;
    assert.ok(counts(first, 1) >= 1, `checks wait their turn (status 1): ${first.map((r) => r.status)}`);

    let polls = 0;
    for (;;) {
      const rows = polls === 0 ? first : await get();
      polls++;
      assert.equal(rows.length, TORRENTS);
      assert.ok(counts(rows, 2) <= CHECKS_AT_ONCE, `at most 8 checking: ${rows.map((r) => r.status)}`);
      const other = rows.filter((row) => ![1, 2, 6].includes(row.status));
      assert.deepEqual(other, [], 'only check wait, checking or seeding');
      if (counts(rows, 6) === TORRENTS) break;
      assert.ok(polls < 2_000, 'all seeding in time');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    for (const row of await get()) assert.equal(row.percentDone, 1);
    await daemon.stop();
  });
});
