/**
 * `lodestone daemon` through the CLI bundle: starts on a temp state folder, SIGTERM exits 0
 * promptly with the state written and the lock released, SIGHUP reloads the settings file
 * (unknown keys kept), a second instance on the same folder refuses, a bad settings file is one
 * clear error with exit code 2.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { Daemon } from '../../src/daemon/daemon.js';
import { trackedTorrentOf } from '../helpers/daemon-fixture.js';
import { type CliRun, runCli } from '../helpers/lodestone-cli.js';

const HOST = '127.0.0.63';

async function folders(t: TestContext): Promise<{ root: string; state: string; downloads: string }> {
  const root = await mkdtemp(join(tmpdir(), 'lodestone-daemon-cli-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  return { root, state: join(root, 'state'), downloads: join(root, 'downloads') };
}

function startDaemon(t: TestContext, state: string, downloads: string, extra: string[] = []): CliRun {
  const run = runCli(
    [
      'daemon',
      '--state-dir',
      state,
      '--download-dir',
      downloads,
      '--port',
      '0',
      '--bind',
      HOST,
      '--rpc-port',
      '0',
      ...extra,
    ],
    { env: { XDG_STATE_HOME: join(state, 'xdg-unused') } },
  );
  t.after(() => run.stop());
  return run;
}

/** Resolves once stderr matches `pattern`; rejects when the process exits first or after `timeoutMs`. */
function stderrMatch(run: CliRun, pattern: RegExp, timeoutMs = 20_000): Promise<string> {
  let text = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no ${pattern} on stderr within ${timeoutMs} ms: ${text}`)),
      timeoutMs,
    );
    const onData = (chunk: string): void => {
      text += chunk;
      if (pattern.test(text)) {
        clearTimeout(timer);
        run.child.stderr!.off('data', onData);
        resolve(text);
      }
    };
    run.child.stderr!.on('data', onData);
    void run.exited.then(({ code, stderr }) => {
      clearTimeout(timer);
      if (!pattern.test(text)) reject(new Error(`exited (${code}) before ${pattern}: ${stderr}`));
    });
  });
}

/** The process's exit, or a failure when it has not exited within `ms`. */
async function exitWithin(run: CliRun, ms: number): Promise<Awaited<CliRun['exited']>> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still running ${ms} ms after the signal`)), ms);
  });
  try {
    return await Promise.race([run.exited, late]);
  } finally {
    clearTimeout(timer);
  }
}

describe('lodestone daemon', { timeout: 60_000 }, () => {
  test('SIGTERM stops it promptly with exit 0 and the state written; a second instance refuses', async (t) => {
    const { state, downloads } = await folders(t);
    // A torrent in the state folder, added paused by an earlier (in-process) run.
    const { bytes, meta } = trackedTorrentOf('delta.bin', Buffer.alloc(40_000, 7));
    const earlier = await Daemon.open({
      stateDir: state,
      home: state,
      overrides: {
        'download-dir': downloads,
        'peer-port': 0,
        'bind-address-ipv4': HOST,
        'dht-enabled': false,
      },
      client: { hashWorkers: 1 },
    });
    await earlier.add({ source: { kind: 'metainfo', bytes }, paused: true });
    await earlier.close();

    const run = startDaemon(t, state, downloads, ['--log-level', 'debug']);
    const log = await stderrMatch(run, / info ready: peer port \d+, 1 torrents/);
    assert.match(log, /^\d{4}-\d\d-\d\dT\S+Z info /m, 'one line per event, with time and level');
    assert.match(log, /rpc: listening on http:\/\/127\.0\.0\.1:\d+\/transmission\/rpc/);
    assert.equal((await readFile(join(state, 'daemon.lock'), 'utf8')).trim(), String(run.child.pid));

    const second = startDaemon(t, state, downloads);
    const refused = await exitWithin(second, 15_000);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      new RegExp(`lodestone: error: another daemon \\(PID ${run.child.pid}\\) is using the state folder`),
    );

    run.child.kill('SIGTERM');
    const result = await exitWithin(run, 10_000);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /SIGTERM: stopping every torrent/);
    assert.equal(existsSync(join(state, 'daemon.lock')), false, 'the lock is released');
    const stats = JSON.parse(await readFile(join(state, 'stats.json'), 'utf8')) as { sessionCount: number };
    assert.equal(stats.sessionCount, 2);
    const entry = JSON.parse(await readFile(join(state, 'torrents', `${meta.infoHashHex}.json`), 'utf8')) as {
      paused: boolean;
    };
    assert.equal(entry.paused, true, 'paused stays paused');
    const settings = JSON.parse(await readFile(join(state, 'settings.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    assert.equal(settings['download-dir'], downloads, 'the flags are saved');
    assert.equal(settings['dht-enabled'], false, 'tests keep the DHT off (--no-dht)');
  });

  test('SIGHUP reloads the settings file and says what changed; unknown keys are kept', async (t) => {
    const { state, downloads } = await folders(t);
    const run = startDaemon(t, state, downloads, ['--rpc-password', 'secret']);
    await stderrMatch(run, / info ready: /);
    const path = join(state, 'settings.json');
    const settings = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
    assert.match(String(settings['rpc-password']), /^\{[0-9a-f]{40}/, 'the password is saved hashed');
    await writeFile(path, JSON.stringify({ ...settings, 'peer-limit-global': 77, 'a-future-key': [1, 2] }));
    const reloaded = stderrMatch(run, /SIGHUP: settings reloaded; changed: ([^\n]*)/);
    run.child.kill('SIGHUP');
    const text = await reloaded;
    assert.match(text, /changed: peer-limit-global\n/);
    assert.match(text, /unknown key "a-future-key" kept/);
    run.child.kill('SIGTERM');
    assert.equal((await exitWithin(run, 10_000)).code, 0);
    const after = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
    assert.deepEqual(after['a-future-key'], [1, 2]);
    assert.equal(after['peer-limit-global'], 77);
  });

  test('a bad settings file is one clear error, exit code 2', async (t) => {
    const { state, downloads } = await folders(t);
    await mkdir(state, { recursive: true });
    await writeFile(join(state, 'settings.json'), JSON.stringify({ 'peer-port': 'many' }));
    const run = startDaemon(t, state, downloads);
    const result = await exitWithin(run, 15_000);
    assert.equal(result.code, 2);
    assert.equal(
      result.stderr,
      `lodestone: error: peer-port must be a whole number from 0 to 65535, not "many" (in ${join(state, 'settings.json')})\n`,
    );
    assert.equal(existsSync(join(state, 'daemon.lock')), false, 'no lock left behind');
  });
});
