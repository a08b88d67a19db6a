/**
 * `npm run bench`: Lodestone against real clients on a loopback swarm, plus
 * micro-benchmarks of the hot paths. See `node dist/bench/run.js --help`.
 *
 * Phases: (1) swarm: several seeders of other clients at once (aria2,
 * qBittorrent, Transmission), every leecher downloads the same torrent from
 * the .torrent and from the magnet link, in turn, rounds alternating the
 * order; the targets are judged here; (2) the same swarm plus a Lodestone
 * seeder, reported as separate rows; (3) solo: each seeder alone, the same
 * leechers downloading from it; (4) the rows of bench/rows.ts, each on its
 * own torrent (many files: Lodestone, aria2 and python3-libtorrent from one
 * seeder; 16 MiB pieces: Lodestone's peak RSS against the documented budget;
 * encryption: Lodestone with RC4 vs plaintext from the same seeders; uTP:
 * Lodestone and libtorrent over uTP only, Lodestone↔Lodestone uTP vs TCP);
 * (5) micro-benchmarks. Everything stays on
 * 127.0.0.0/8; every process is stopped by PID and every temp folder removed,
 * on success, failure and Ctrl-C.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startOpentracker } from '../test/helpers/opentracker.js';
import { isCI, toolAvailable } from '../test/helpers/tools.js';
import { type Config, parseConfig, USAGE } from './config.js';
import { libtorrentAvailable } from './libtorrent.js';
import { BenchError, Cleanup, formatSize, GiB } from './measure.js';
import { runMicroBenchmarks } from './micro.js';
import { type Phase, soloPhase, swarmPhase } from './phases.js';
import { type BenchReport, renderMarkdown, writeResults } from './report.js';
import { runRows } from './rows.js';
import { type ClientKind, missingFor, prepareTorrent } from './swarm.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CI = isCI();

const startedAt = Date.now();
function log(text: string): void {
  process.stderr.write(`[${((Date.now() - startedAt) / 1000).toFixed(0).padStart(4)} s] ${text}\n`);
}

/**
 * Drops clients whose tool is missing (with a note) in quick mode; anywhere
 * else, or in CI (where .ci/run installs every tool and npm ci WebTorrent), a
 * missing tool is an error.
 */
function checkTools(config: Config, notes: string[]): void {
  const wanted = new Set<ClientKind>([
    ...config.seeders,
    ...config.leechers,
    ...config.lodestoneSeederLeechers,
    ...config.soloSeeders,
    ...config.soloLeechers,
    ...(config.rows.includes('many-files')
      ? [config.manyFilesSeeder, ...config.manyFilesLeechers.filter((kind) => kind !== 'libtorrent')]
      : []),
    ...(config.rows.includes('big-pieces') ? ['lodestone' as const] : []),
    ...(config.rows.includes('encryption') ? config.encryptionSeeders : []),
    ...(config.rows.includes('scale') ? ['transmission' as const] : []),
  ]);
  const missing = new Map<ClientKind, string[]>();
  for (const kind of wanted) {
    const tools = missingFor(kind);
    if (tools.length > 0) missing.set(kind, tools);
  }
  const base = ['opentracker', 'mktorrent'].filter((tool) => !toolAvailable(tool));
  const rowLibtorrent =
    config.rows.includes('many-files') &&
    config.manyFilesLeechers.includes('libtorrent') &&
    !libtorrentAvailable();
  // The uTP row runs its Lodestone↔Lodestone pair without it (quick mode outside CI only).
  const utpLibtorrent = config.rows.includes('utp') && !libtorrentAvailable();
  if (
    config.rows.includes('encryption') &&
    config.encryptionLeechers.includes('libtorrent') &&
    !libtorrentAvailable()
  ) {
    throw new BenchError('--encryption-leechers libtorrent needs python3-libtorrent for /usr/bin/python3');
  }
  const problems = [
    ...(rowLibtorrent ? ['libtorrent needs python3-libtorrent for /usr/bin/python3, not installed'] : []),
    ...(utpLibtorrent && !rowLibtorrent
      ? ['the uTP row’s libtorrent pair needs python3-libtorrent for /usr/bin/python3, not installed']
      : []),
    ...base.map((tool) => `${tool} is not installed (needed for every download benchmark)`),
    ...[...missing].map(([kind, tools]) => `${kind} needs ${tools.join(', ')}, not installed`),
  ];
  if (problems.length === 0) return;
  if (!config.quick || CI) {
    throw new BenchError(
      `${problems.join('; ')}${CI ? ' (CI=true: .ci/run installs these)' : ''}; install it, or leave the client out (--seeders/--leechers/--solo-*)`,
    );
  }
  for (const problem of problems) notes.push(`Skipped: ${problem}.`);
  if (base.length > 0) {
    config.downloads = false;
    return;
  }
  const keep = <T extends ClientKind>(kinds: T[]) => kinds.filter((kind) => !missing.has(kind));
  config.seeders = keep(config.seeders);
  config.leechers = keep(config.leechers);
  config.lodestoneSeederLeechers = keep(config.lodestoneSeederLeechers);
  config.soloSeeders = keep(config.soloSeeders);
  config.soloLeechers = keep(config.soloLeechers);
  config.encryptionSeeders = keep(config.encryptionSeeders);
  config.manyFilesLeechers = config.manyFilesLeechers.filter((kind) =>
    kind === 'libtorrent' ? !rowLibtorrent : !missing.has(kind),
  );
  if (missing.has(config.manyFilesSeeder)) config.rows = config.rows.filter((row) => row !== 'many-files');
}

/** Whether the swarm or solo phases download anything (else their content is not even written). */
function phasesRun(config: Config): boolean {
  if (config.sources.length === 0) return false;
  const swarm =
    config.seeders.length > 0 && (config.leechers.length > 0 || config.lodestoneSeederLeechers.length > 0);
  return swarm || (config.soloSeeders.length > 0 && config.soloLeechers.length > 0);
}

/** First line a tool prints for `args`, on stdout or (transmission-daemon) stderr. */
function version(command: string, args: string[]): string | undefined {
  const run = spawnSync(command, args, { encoding: 'utf8', timeout: 5000, stdio: 'pipe' });
  if (run.error !== undefined) return undefined;
  return `${run.stdout}${run.stderr}`.split('\n')[0]?.trim() || undefined;
}

function versions(): Record<string, string> {
  const packageVersion = (path: string) => {
    try {
      return (JSON.parse(readFileSync(join(ROOT, path), 'utf8')) as { version: string }).version;
    } catch {
      return undefined;
    }
  };
  const found: Record<string, string | undefined> = {
    lodestone: packageVersion('package.json'),
    aria2: version('aria2c', ['--version'])?.replace(/^aria2 version /, ''),
    qbittorrent: version('qbittorrent-nox', ['--version'])?.replace(/^qBittorrent /, ''),
    transmission: version('transmission-daemon', ['--version'])?.replace(/^transmission-daemon /, ''),
    webtorrent: packageVersion('node_modules/webtorrent/package.json'),
  };
  return Object.fromEntries(Object.entries(found).filter((entry): entry is [string, string] => !!entry[1]));
}

async function main(): Promise<number> {
  let config: Config | undefined;
  try {
    config = parseConfig(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`bench: ${(error as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (config === undefined) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const cleanup = new Cleanup();
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    log(`${signal}: stopping every client and removing temp folders`);
    void cleanup.run().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const notes: string[] = [];
  const report: BenchReport = {
    startedAt: new Date(startedAt).toISOString(),
    machine: {
      cpu: os.cpus()[0]?.model.trim() ?? 'unknown CPU',
      cores: os.availableParallelism(),
      memoryGiB: Math.round(os.totalmem() / GiB),
      node: process.versions.node,
      loadAverageAtStart: os.loadavg(),
    },
    config: {},
    versions: versions(),
    notes,
    records: [],
    micro: [],
  };
  let failed = false;
  try {
    if (config.downloads) checkTools(config, notes);
    notes.push(
      'Loopback only, on a shared machine: other work running at the same time makes the numbers noisy; compare ratios within a round rather than absolute figures across runs.',
      'Wall time runs from spawning the client to every piece verified (Lodestone: its `seeding` event; aria2: its completion hook; WebTorrent: its `done` event; python3-libtorrent: its status turning `is_seeding`, polled every 20 ms). CPU = user+sys of the leecher process (threads and reaped children included) and peak RSS = VmHWM, both read from /proc at that moment.',
      `Swarm: ${config.seeders.join(', ')}${config.seeders.includes('lodestone') ? ' (includes a Lodestone seeder: no targets are judged)' : ', the swarm the targets are judged on'}. Transmission seeds at ~10 MiB/s on loopback and unchokes a new peer only at its next 10-second choke round, so it is a real but slow peer.`,
      ...(config.lodestoneSeederLeechers.length > 0 && !config.seeders.includes('lodestone')
        ? [
            'Then the same swarm plus a Lodestone seeder, as separate rows: on loopback a Lodestone leecher fetches most of its bytes from it, so those rows show the home swarm, never the targets.',
          ]
        : []),
      ...(config.size < GiB
        ? [
            `The targets are set for downloads of 1 GiB and more: at ${formatSize(config.size)} start-up (loading Node, the first announce) weighs on CPU per GiB and peak RSS, so a missed target here says little.`,
          ]
        : []),
      `Each download starts after ${config.settleMs / 1000} s idle: on a VM, page-cache writes cost several times more system CPU once the balloon driver has returned freed memory to the host (about 2 s after the previous download was deleted), so without the pause the client that happens to run right after a deletion is billed less.`,
    );
    report.config = {
      size: formatSize(config.size),
      files: config.files,
      pieceLength: formatSize(2 ** config.pieceLengthExp),
      pieces: Math.ceil(config.size / 2 ** config.pieceLengthExp),
      runs: config.runs,
      quick: config.quick,
      seeders: config.seeders,
      leechers: config.leechers,
      lodestoneSeederLeechers: config.seeders.includes('lodestone') ? [] : config.lodestoneSeederLeechers,
      sources: config.sources,
      soloSeeders: config.soloSeeders,
      soloLeechers: config.soloLeechers,
      rows: config.rows,
      ...(config.rows.includes('many-files')
        ? {
            manyFiles: config.manyFiles,
            manyFilesSeeder: config.manyFilesSeeder,
            manyFilesLeechers: config.manyFilesLeechers,
          }
        : {}),
      ...(config.rows.includes('big-pieces')
        ? {
            bigPiecesSize: formatSize(config.bigPiecesSize),
            bigPieceLength: formatSize(config.bigPieceLength),
          }
        : {}),
      rowRuns: config.rowRuns,
      ...(config.rows.includes('encryption')
        ? {
            encryptionSize: formatSize(config.encryptionSize),
            encryptionSeeders: config.encryptionSeeders,
            encryptionLeechers: config.encryptionLeechers,
          }
        : {}),
      ...(config.rows.includes('utp') ? { utpSize: formatSize(config.utpSize) } : {}),
      ...(config.rows.includes('scale')
        ? { scaleTorrents: config.scaleTorrents, scaleIdleSeconds: config.scaleIdleSeconds }
        : {}),
      settleSeconds: config.settleMs / 1000,
      verification: config.verify
        ? 'size and SHA-1 of every file compared with the original after each download'
        : 'none (--no-verify): the clients’ own piece checks only',
    };
    if (config.downloads) {
      const workDir = await mkdtemp(join(os.tmpdir(), 'lodestone-bench-'));
      cleanup.add(`work folder ${workDir}`, () => rm(workDir, { recursive: true, force: true }));
      const tracker = await startOpentracker({ infoHashes: [] });
      cleanup.add(`opentracker (pid ${tracker.pid})`, () => tracker.stop());
      if (phasesRun(config)) {
        log(`writing ${formatSize(config.size)} of random content and its torrent (mktorrent)`);
        const torrent = await prepareTorrent({
          root: workDir,
          size: config.size,
          fileCount: config.files,
          pieceLengthExp: config.pieceLengthExp,
          trackerUrl: tracker.httpUrl,
        });
        await tracker.addInfoHash(torrent.facts.infoHashHex);
        const phase: Phase = {
          torrent,
          tracker,
          workDir,
          cleanup,
          config,
          records: report.records,
          aborted: () => interrupted,
          log,
        };
        await swarmPhase(phase);
        await soloPhase(phase);
      }
      if (!interrupted) {
        report.rows = {};
        await runRows({
          tracker,
          workDir,
          cleanup,
          config,
          records: report.records,
          info: report.rows,
          aborted: () => interrupted,
          log,
        });
      }
      await tracker.stop();
    }
    if (config.micro && !interrupted) {
      log('micro-benchmarks');
      report.micro = await runMicroBenchmarks({
        quick: config.quick,
        ...(config.microFilter !== undefined ? { filter: config.microFilter } : {}),
        onProgress: log,
      });
    }
    failed = report.records.some((record) => !record.ok);
  } catch (error) {
    if (interrupted) return 130;
    failed = true;
    log(`error: ${(error as Error).stack ?? error}`);
    notes.push(`Aborted: ${(error as Error).message.split('\n')[0]}`);
  } finally {
    const problems = await cleanup.run();
    for (const problem of problems) log(`cleanup: ${problem}`);
  }
  if (interrupted) return 130;
  report.durationSeconds = (Date.now() - startedAt) / 1000;
  const markdown = renderMarkdown(report);
  process.stdout.write(markdown);
  await writeResults(config.out, report, markdown);
  log(`results written to ${join(config.out, 'latest.md')} and latest.json`);
  return failed ? 1 : 0;
}

process.exitCode = await main();
