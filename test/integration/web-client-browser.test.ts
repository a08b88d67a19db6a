/**
 * Transmission's own web client (Debian's /usr/share/transmission/web, unmodified) in a real
 * Chromium, against the real `lodestone daemon --web-root` over a real loopback swarm
 * (opentracker + a Lodestone seeder). Driven like a user: the list shows a torrent added over
 * RPC; a `.torrent` is uploaded through the "open torrent" dialog's file input and a magnet
 * through its URL field; a speed limit is set in the preferences dialog (session-get shows it)
 * and holds a download back while it is paused and resumed from the toolbar; the inspector shows
 * the files, the peers and the trackers; a torrent is removed. Every download finishes
 * byte-exact with the page open, and over the whole session there is no console error and no RPC
 * answer other than "success" (the CSRF 409 handshake aside). With and without a password.
 * Chromium, mktorrent, opentracker or the web client missing: skipped locally, failing in CI.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { launchBrowser, requireChromium } from '../helpers/browser.js';
import { type DaemonProcess, eventually, startDaemonProcess } from '../helpers/daemon-process.js';
import { startDaemonSwarm } from '../helpers/daemon-swarm.js';
import { makeTorrentBytes } from '../helpers/memory-daemon.js';
import { isCI, requireTool } from '../helpers/tools.js';
import {
  closePrefs,
  contextCommand,
  keepScreenshot,
  openPage,
  portTestRefused,
  row,
  rowShows,
  selectOnly,
  soon,
  UI_TIMEOUT,
  watchPage,
} from '../helpers/web-client-ui.js';

const WEB_ROOT = '/usr/share/transmission/web';
const SEEDER_HOST = '127.0.0.101';
const DAEMON_HOST = '127.0.0.102';
const RPC_HOST = '127.0.0.103';
const OPEN_DAEMON_HOST = '127.0.0.104';
const OPEN_RPC_HOST = '127.0.0.105';
const USER = 'web-user';
const PASS = 'web-pass';
/** A download of at most 1.5 MB over loopback, its limit lifted. */
const DOWNLOAD_TIMEOUT = 20_000;

function requireWebClient(t: TestContext): boolean {
  if (existsSync(join(WEB_ROOT, 'index.html'))) return true;
  if (isCI()) throw new Error(`Transmission's web client (${WEB_ROOT}) is required in CI`);
  t.skip('transmission web client not installed');
  return false;
}

interface TorrentState {
  id: number;
  name: string;
  status: number;
  percentDone: number;
}

async function torrentsOf(daemon: DaemonProcess): Promise<TorrentState[]> {
  const answer = await daemon.rpc<{ torrents: TorrentState[] }>('torrent-get', {
    fields: ['id', 'name', 'status', 'percentDone'],
  });
  return answer.torrents;
}

async function torrentNamed(daemon: DaemonProcess, name: string): Promise<TorrentState | undefined> {
  return (await torrentsOf(daemon)).find((torrent) => torrent.name === name);
}

describe('the stock Transmission web client in Chromium drives lodestone daemon', { timeout: 90_000 }, () => {
  test('with a password: list, add by file and magnet, limits, pause/resume, inspector, remove', async (t) => {
    if (
      !requireChromium(t) ||
      !requireWebClient(t) ||
      !requireTool(t, 'mktorrent') ||
      !requireTool(t, 'opentracker')
    )
      return;
    // First of the after hooks: reports what the page saw before the daemon and browser stop.
    const watch = watchPage(t, 'password');
    const work = await mkdtemp(join(tmpdir(), 'web-client-'));
    t.after(() => rm(work, { recursive: true, force: true }));
    const swarm = await startDaemonSwarm(t, work, SEEDER_HOST, [
      {
        name: 'album',
        files: [
          { path: 'one.bin', size: 200_000 },
          { path: 'two.bin', size: 300_000 },
          { path: 'three.bin', size: 250_000 },
        ],
      },
      { name: 'movie.bin', files: [{ path: 'movie.bin', size: 1_500_000 }] },
      { name: 'clip.bin', files: [{ path: 'clip.bin', size: 400_000 }] },
    ]);
    const [album, movie, clip] = swarm.torrents as [
      (typeof swarm.torrents)[0],
      (typeof swarm.torrents)[0],
      (typeof swarm.torrents)[0],
    ];
    const downloads = join(work, 'downloads');
    await mkdir(downloads, { recursive: true });
    const daemon = await startDaemonProcess(t, {
      stateDir: join(work, 'state'),
      downloadDir: downloads,
      host: DAEMON_HOST,
      rpcHost: RPC_HOST,
      username: USER,
      password: PASS,
      extra: ['--web-root', WEB_ROOT],
    });
    // Added over RPC before the page opens.
    await daemon.rpc('torrent-add', { filename: album.torrentPath });

    const browser = await launchBrowser(t);
    const context = await browser.browser.newContext({
      httpCredentials: { username: USER, password: PASS },
      viewport: { width: 1280, height: 800 },
    });
    const page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT);
    const recorder = watch.record(page);
    await openPage(page, `http://${RPC_HOST}:${daemon.rpcPort}/`);

    // The list shows the RPC-added torrent, its name and its progress, up to done.
    await rowShows(page, 'album', /^album/, 'listed');
    await eventually(
      'album done (RPC)',
      async () => (await torrentNamed(daemon, 'album'))?.percentDone === 1,
      DOWNLOAD_TIMEOUT,
    );
    await rowShows(page, 'album', /750\.0 kB, uploaded/, 'shown complete');

    // Preferences → Speed: a download limit, applied at once; session-get shows it.
    await page.locator('#prefs-button').click();
    await page.locator('#prefs-dialog').waitFor({ state: 'visible' });
    await page.locator('#prefs-tab-speed a').click();
    await page.locator('#speed-limit-down-enabled').check();
    await page.locator('#speed-limit-down').fill('60');
    await page.locator('#speed-limit-down').blur();
    await soon('the limit in session-get', async () => {
      const session = await daemon.rpc<Record<string, unknown>>('session-get');
      return session['speed-limit-down'] === 60 && session['speed-limit-down-enabled'] === true;
    });
    await closePrefs(page);

    // Open torrent → upload movie.torrent through the file input, "start when added" off.
    await page.locator('#toolbar-open').click();
    await page.locator('#upload_container').waitFor({ state: 'visible' });
    await page.locator('#torrent_upload_file').setInputFiles(movie.torrentPath);
    await page.locator('#torrent_auto_start').uncheck();
    await page.locator('#upload_confirm_button').click();
    await page.locator('#upload_container').waitFor({ state: 'hidden' });
    await rowShows(page, 'movie.bin', /Paused/, 'added paused');
    assert.equal((await torrentNamed(daemon, 'movie.bin'))?.status, 0, 'movie stopped (RPC)');

    // Start it from the toolbar: it downloads, held back by the limit.
    await selectOnly(page, 'movie.bin');
    await page.locator('#toolbar-start').click();
    await soon(
      'movie downloading (RPC)',
      async () => (await torrentNamed(daemon, 'movie.bin'))?.status === 4,
    );
    await rowShows(page, 'movie.bin', /Downloading from \d of 1 peer/, 'downloading from the seeder');

    // The inspector on the downloading movie: info, peers (the seeder), trackers, files.
    await page.locator('#toolbar-inspector').click();
    await page.locator('#torrent_inspector').waitFor({ state: 'visible' });
    // The client re-renders the inspector from its selection on a timer and after list refreshes
    // (it once showed the name, then "None" for the hash a moment later): read both in one render.
    const shownHash = await soon('inspector name and hash', async () => {
      const name = await page.locator('#torrent_inspector_name').textContent();
      const hash = await page.locator('#inspector-info-hash').textContent();
      return name === 'movie.bin' && hash === movie.facts.infoHashHex ? hash : undefined;
    });
    assert.equal(shownHash, movie.facts.infoHashHex);
    await page.locator('#inspector-tab-peers').click();
    await page
      .locator('#inspector_peers_list td', { hasText: SEEDER_HOST })
      .first()
      .waitFor({ state: 'visible' });
    await page.locator('#inspector-tab-trackers').click();
    const trackerHost = new URL(swarm.trackerUrl).host;
    await page.locator('#inspector_trackers_list', { hasText: trackerHost }).waitFor({ state: 'visible' });
    await page.locator('#inspector-tab-files').click();
    await page
      .locator('#inspector_file_list .inspector_torrent_file_list_entry_name', { hasText: 'movie.bin' })
      .waitFor({ state: 'visible' });

    // Pause it from the toolbar while it downloads, then resume.
    assert.ok(((await torrentNamed(daemon, 'movie.bin'))?.percentDone ?? 1) < 1, 'movie still downloading');
    await page.locator('#toolbar-pause').click();
    await soon('movie paused (RPC)', async () => (await torrentNamed(daemon, 'movie.bin'))?.status === 0);
    await rowShows(page, 'movie.bin', /Paused/, 'shown paused');
    await page.locator('#toolbar-start').click();
    await soon('movie resumed (RPC)', async () => (await torrentNamed(daemon, 'movie.bin'))?.status === 4);

    // The album's files in the inspector.
    await selectOnly(page, 'album');
    await soon('inspector shows album', async () =>
      (await page.locator('#torrent_inspector_name').textContent()) === 'album' ? true : undefined,
    );
    const names = page.locator('#inspector_file_list .inspector_torrent_file_list_entry_name');
    // A tree: the folder, then its files (mktorrent sorts them).
    await soon('the album files listed', async () => ((await names.count()) === 4 ? true : undefined));
    assert.deepEqual(await names.allTextContents(), ['album', 'one.bin', 'three.bin', 'two.bin']);
    await page.locator('#toolbar-inspector').click();
    await page.locator('#torrent_inspector').waitFor({ state: 'hidden' });

    // Lift the limit in the preferences dialog.
    await page.locator('#prefs-button').click();
    await page.locator('#prefs-tab-speed a').click();
    await page.locator('#speed-limit-down-enabled').uncheck();
    await soon('no limit in session-get', async () => {
      const session = await daemon.rpc<Record<string, unknown>>('session-get');
      return session['speed-limit-down-enabled'] === false;
    });
    await closePrefs(page);

    // Open torrent → a magnet in the URL field.
    await page.locator('#toolbar-open').click();
    await page.locator('#upload_container').waitFor({ state: 'visible' });
    await page.locator('#torrent_upload_url').fill(swarm.magnetOf(clip));
    await page.locator('#upload_confirm_button').click();
    await page.locator('#upload_container').waitFor({ state: 'hidden' });
    await rowShows(page, 'clip.bin', /^clip\.bin/, 'the magnet listed by name');

    // Everything finishes with the page open, byte-exact.
    for (const name of ['movie.bin', 'clip.bin']) {
      await eventually(
        `${name} done (RPC)`,
        async () => (await torrentNamed(daemon, name))?.percentDone === 1,
        DOWNLOAD_TIMEOUT,
      );
    }
    await rowShows(page, 'movie.bin', /1\.50 MB, uploaded/, 'movie shown complete');
    await rowShows(page, 'clip.bin', /400\.0 kB, uploaded/, 'clip shown complete');
    for (const torrent of [album, movie, clip]) {
      for (const [path, bytes] of torrent.files) {
        assert.ok((await readFile(join(downloads, path))).equals(bytes), `${path} byte-exact`);
      }
    }

    // Pause and resume a finished torrent from the toolbar.
    await selectOnly(page, 'album');
    await page.locator('#toolbar-pause').click();
    await soon('album stopped (RPC)', async () => (await torrentNamed(daemon, 'album'))?.status === 0);
    await rowShows(page, 'album', /Seeding complete|Paused/, 'shown stopped');
    await page.locator('#toolbar-start').click();
    await soon('album seeding (RPC)', async () => (await torrentNamed(daemon, 'album'))?.status === 6);
    await rowShows(page, 'album', /Seeding to/, 'shown seeding');

    // The right-click menu: verify, ask the tracker for peers, move to the top of the queue.
    await contextCommand(page, 'album', 'Verify Local Data');
    await soon('album verified and seeding (RPC)', async () => {
      const verified = recorder.calls('torrent-verify').length > 0;
      return verified && (await torrentNamed(daemon, 'album'))?.status === 6;
    });
    await contextCommand(page, 'album', 'Ask tracker for more peers');
    await contextCommand(page, 'movie.bin', 'Move to Top');
    await soon('movie first in the queue (RPC)', async () => {
      const { torrents } = await daemon.rpc<{ torrents: { name: string; queuePosition: number }[] }>(
        'torrent-get',
        { fields: ['name', 'queuePosition'] },
      );
      return torrents.find((torrent) => torrent.name === 'movie.bin')?.queuePosition === 0;
    });

    // Remove the magnet's torrent (keeping its data) after the confirmation dialog.
    await selectOnly(page, 'clip.bin');
    await page.locator('#toolbar-remove').click();
    await page.locator('#dialog_container').waitFor({ state: 'visible' });
    assert.match((await page.locator('#dialog_heading').textContent()) ?? '', /Remove clip\.bin\?/);
    await page.locator('#dialog_confirm_button').click();
    await soon('clip gone (RPC)', async () =>
      (await torrentNamed(daemon, 'clip.bin')) === undefined ? true : undefined,
    );
    await row(page, 'clip.bin').waitFor({ state: 'detached' });
    assert.equal(await page.locator('#torrent_list li.torrent').count(), 2);
    assert.ok(existsSync(join(downloads, 'clip.bin')), 'its data kept');
    // The movie, with its data, from the right-click menu.
    await contextCommand(page, 'movie.bin', 'Trash Data and Remove From List…');
    await page.locator('#dialog_container').waitFor({ state: 'visible' });
    assert.match(
      (await page.locator('#dialog_heading').textContent()) ?? '',
      /Remove movie\.bin and delete data\?/,
    );
    await page.locator('#dialog_confirm_button').click();
    await soon('movie gone (RPC)', async () =>
      (await torrentNamed(daemon, 'movie.bin')) === undefined ? true : undefined,
    );
    await row(page, 'movie.bin').waitFor({ state: 'detached' });
    await soon('its data deleted', async () => !existsSync(join(downloads, 'movie.bin')));
    assert.ok(existsSync(join(downloads, 'album', 'one.bin')), 'the album kept');

    // Set Location… with its data moved, from the right-click menu.
    const moved = join(work, 'moved');
    await mkdir(moved);
    await contextCommand(page, 'album', 'Set Location…');
    await page.locator('#move_container').waitFor({ state: 'visible' });
    await page.locator('#torrent_path').fill(moved);
    await page.locator('#move_confirm_button').click();
    await page.locator('#move_container').waitFor({ state: 'hidden' });
    await soon('album moved (RPC)', async () => {
      const { torrents } = await daemon.rpc<{ torrents: { downloadDir: string; status: number }[] }>(
        'torrent-get',
        { ids: [1], fields: ['downloadDir', 'status'] },
      );
      return torrents[0]?.downloadDir === moved && torrents[0].status === 6;
    });
    for (const [path, bytes] of album.files) {
      assert.ok((await readFile(join(moved, path))).equals(bytes), `${path} moved byte-exact`);
      assert.equal(existsSync(join(downloads, path)), false, `${path} gone from the old place`);
    }
    await rowShows(page, 'album', /Seeding to/, 'seeding again after the move');

    // The end: the album selected, the inspector on its files.
    await selectOnly(page, 'album');
    await page.locator('#toolbar-inspector').click();
    await page.locator('#inspector-tab-files').click();
    await page
      .locator('#inspector_file_list .inspector_torrent_file_list_entry_name', { hasText: 'two.bin' })
      .waitFor();
    await page.screenshot({ path: join(work, 'web-client.png') });
    await keepScreenshot(join(work, 'web-client.png'), 'web-client-password.png');
    await recorder.settled();
    for (const method of ['session-get', 'session-stats', 'torrent-get', 'torrent-add', 'session-set']) {
      assert.ok(recorder.calls(method).length > 0, `the client called ${method}`);
    }
    for (const method of [
      'torrent-start',
      'torrent-stop',
      'torrent-remove',
      'torrent-verify',
      'torrent-reannounce',
      'queue-move-top',
      'torrent-set-location',
    ]) {
      assert.ok(recorder.calls(method).length > 0, `the client called ${method}`);
    }
    assert.deepEqual(recorder.problems(portTestRefused), []);
  });

  test('without a password: /transmission leads to the client, which lists the torrents', async (t) => {
    if (!requireChromium(t) || !requireWebClient(t)) return;
    // First of the after hooks: reports what the page saw before the daemon and browser stop.
    const watch = watchPage(t, 'open');
    const work = await mkdtemp(join(tmpdir(), 'web-client-open-'));
    t.after(() => rm(work, { recursive: true, force: true }));
    const downloads = join(work, 'downloads');
    await mkdir(downloads, { recursive: true });
    const torrentPath = join(work, 'notes.torrent');
    await writeFile(
      torrentPath,
      makeTorrentBytes('notes', [
        { path: ['a.txt'], length: 40_000 },
        { path: ['b.txt'], length: 9_000 },
      ]),
    );
    const daemon = await startDaemonProcess(t, {
      stateDir: join(work, 'state'),
      downloadDir: downloads,
      host: OPEN_DAEMON_HOST,
      rpcHost: OPEN_RPC_HOST,
      extra: ['--web-root', WEB_ROOT],
    });
    await daemon.rpc('torrent-add', { filename: torrentPath, paused: true });
    const browser = await launchBrowser(t);
    const page = await browser.browser.newPage({ viewport: { width: 1024, height: 600 } });
    page.setDefaultTimeout(UI_TIMEOUT);
    const recorder = watch.record(page);
    await openPage(page, `http://${OPEN_RPC_HOST}:${daemon.rpcPort}/transmission`);
    await rowShows(page, 'notes', /^notesPaused0 B of 49\.0 kB \(0\.00%\)$/, 'listed paused at 0%');
    await selectOnly(page, 'notes');
    await page.locator('#toolbar-inspector').click();
    await page.locator('#inspector-tab-files').click();
    const names = page.locator('#inspector_file_list .inspector_torrent_file_list_entry_name');
    // A tree: the torrent's folder, then its files.
    await soon('the files listed', async () => ((await names.count()) === 3 ? true : undefined));
    assert.deepEqual(await names.allTextContents(), ['notes', 'a.txt', 'b.txt']);
    // Untick b.txt, and a.txt to high priority, from the files tab.
    const fileRow = (name: string) =>
      page.locator('#inspector_file_list li', {
        has: page.locator('.inspector_torrent_file_list_entry_name', { hasText: new RegExp(`^${name}$`) }),
      });
    await fileRow('b\\.txt').locator('.file_wanted_control').uncheck();
    await fileRow('a\\.txt').locator('.file-priority-radiobox .high').click();
    const fileStats = async () =>
      (
        await daemon.rpc<{ torrents: { fileStats: { wanted: boolean; priority: number }[] }[] }>(
          'torrent-get',
          { ids: [1], fields: ['fileStats'] },
        )
      ).torrents[0]?.fileStats;
    await soon('b.txt unwanted, a.txt high (RPC)', async () => {
      const stats = await fileStats();
      return stats?.[1]?.wanted === false && stats[0]?.priority === 1 && stats[0].wanted;
    });
    // …and the page shows what the daemon now says, at its next refresh.
    await fileRow('a\\.txt').locator('.file-priority-radiobox .high.selected').waitFor();
    assert.equal(await fileRow('b\\.txt').locator('.file_wanted_control').isChecked(), false);
    // The turtle button: alternative speed limits on, then off.
    await page.locator('#turtle-button').click();
    await soon(
      'alt-speed on (RPC)',
      async () => (await daemon.rpc('session-get'))['alt-speed-enabled'] === true,
    );
    await page.locator('#turtle-button').click();
    await soon(
      'alt-speed off (RPC)',
      async () => (await daemon.rpc('session-get'))['alt-speed-enabled'] === false,
    );
    await page.screenshot({ path: join(work, 'web-client.png') });
    await keepScreenshot(join(work, 'web-client.png'), 'web-client-open.png');
    await recorder.settled();
    assert.deepEqual(recorder.problems(), []);
  });
});
