import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  type Client,
  DiscoveryCounters,
  formatDurationMs,
  type PeerAddress,
  type TorrentMetadata,
  type TorrentSession,
} from '../index.js';
import { formatBytes } from '../metainfo/index.js';
import { isMissingFile, toStorageError } from '../storage/index.js';
import { describeMessage } from '../wire/index.js';
import { ExitCode } from './exit-codes.js';
import { fileChoicesFrom } from './file-list.js';
import { parseDuration, parsePeers, parsePositiveInteger, parseRatio, type SwarmOptions } from './options.js';
import type { Reporter } from './reporter.js';
import { type Stall, StallWatch } from './stall-watch.js';
import { resolveStateDir } from './state-dir.js';

export interface RunTorrentOptions extends SwarmOptions {
  /** Folder holding (or receiving) the torrent's files. */
  root: string;
  /** Keep serving peers after completion. */
  seed: boolean;
  /** Refuse to start unless the data is already complete (`lodestone seed`). */
  requireComplete?: boolean;
  /** `download --files <list>`: only these files (indexes as `lodestone info` prints them). */
  files?: string;
  /** `download --skip <list>`: every file but these. */
  skip?: string;
  /** `download --sequential`: pieces in order, each wanted file's first and last piece first. */
  sequential?: boolean;
}

/**
 * Runs one torrent to completion (and, when seeding, until a seeding limit
 * or Ctrl-C): the ordinary code path of `download`, `seed` and `demo`.
 */
export async function runTorrent(
  client: Client,
  meta: TorrentMetadata,
  discovered: PeerAddress[],
  options: RunTorrentOptions,
  reporter: Reporter,
): Promise<number> {
  const peers = parsePeers(options.peer);
  const seedRatio = parseRatio(options.seedRatio);
  const seedTimeMs = parseDuration(options.seedTime, '--seed-time');
  const files = fileChoicesFrom(options, meta.files.length);
  const session = client.add(meta, {
    ...(files ? { files } : {}),
    ...(options.sequential ? { sequential: true } : {}),
    // With a selection, the part file lives in the state folder, not among the user's files.
    ...(files
      ? { partFile: join(resolveStateDir(options.stateDir), 'parts', `${meta.infoHashHex}.parts`) }
      : {}),
    path: options.root,
    peers,
    useTrackers: options.trackers,
    trace: options.trace === true,
    seed: options.seed,
    ...(options.resumeInterval !== undefined
      ? { resumeSaveIntervalMs: parseDuration(options.resumeInterval, '--resume-interval', { min: 100 }) }
      : {}),
    ...(options.uploadSlots
      ? { uploadSlots: parsePositiveInteger(options.uploadSlots, '--upload-slots') }
      : {}),
  });
  reporter.info(
    `${meta.name}: ${formatBytes(meta.totalLength)} in ${meta.pieceCount} pieces -> ${options.root}`,
  );
  const wanted = session.stats().wantedBytes;
  if (files)
    reporter.info(
      `${files.filter((file) => file.wanted).length} of ${meta.files.length} files selected: ${formatBytes(wanted)}`,
    );
  reporter.event('start', {
    name: meta.name,
    infoHash: meta.infoHashHex,
    totalBytes: meta.totalLength,
    wantedBytes: wanted,
    output: options.root,
    port: client.port,
    // The UDP port uTP peers reach us on (0: no uTP, --no-utp).
    utpPort: client.utpPort,
    // The DHT's UDP port (0: --no-dht).
    dhtPort: client.dhtPort,
  });
  const endLogging = attachLogging(session, options, reporter);

  let fatal: Error | undefined;
  let seedTimer: NodeJS.Timeout | undefined;
  const onSignal: { handler?: () => void } = {};
  const outcome = new Promise<number>((resolveOutcome) => {
    session.once('ready', ({ verifiedPieces }) => {
      if (options.requireComplete && verifiedPieces < meta.pieceCount) {
        const missing = meta.pieceCount - verifiedPieces;
        reporter.log(
          `lodestone: error: ${missing} of ${meta.pieceCount} pieces are missing or wrong in ${options.root}; ` +
            'use `lodestone download` to complete the data',
        );
        resolveOutcome(ExitCode.incomplete);
      } else if (verifiedPieces < meta.pieceCount) {
        // Fail fast on a folder we cannot write (read-only mount, no permission): otherwise the
        // error shows only when the first piece arrives, and never if no peer sends data.
        assertWritableFolder(options.root).catch((error: Error) => {
          fatal = error; // always a StorageError (toStorageError)
          resolveOutcome(ExitCode.failure);
        });
      }
    });
    session.once('done', () => {
      if (!options.seed) {
        resolveOutcome(ExitCode.ok);
        return;
      }
      const limits = [
        seedRatio !== undefined ? `ratio ${seedRatio}` : undefined,
        seedTimeMs !== undefined ? formatDurationMs(seedTimeMs) : undefined,
      ].filter(Boolean);
      reporter.info(
        `complete; seeding${limits.length ? ` until ${limits.join(' or ')}` : ''} (Ctrl-C to stop)`,
      );
      reporter.event('seeding', { seedRatio, seedTimeMs });
      if (seedTimeMs !== undefined) seedTimer = setTimeout(() => resolveOutcome(ExitCode.ok), seedTimeMs);
    });
    session.on('error', (error) => {
      fatal ??= error;
      resolveOutcome(ExitCode.failure);
    });
    onSignal.handler = () => resolveOutcome(ExitCode.interrupted);
    process.once('SIGINT', onSignal.handler);
    process.once('SIGTERM', onSignal.handler);
    if (seedRatio !== undefined) {
      const check = setInterval(() => {
        const stats = session.stats();
        if (session.done && stats.uploadedBytes >= seedRatio * meta.totalLength) {
          clearInterval(check);
          resolveOutcome(ExitCode.ok);
        }
      }, 500);
      check.unref();
      session.once('error', () => clearInterval(check));
    }
  });
  const stallAfterMs = stallNoticeMs();
  let stall: StallWatch | undefined;
  let stalled: Stall['kind'] | undefined;
  session.once('ready', () => {
    const trackers = meta.announceTiers.flat().length;
    const watch = new StallWatch({
      trackers: options.trackers === false ? 0 : trackers,
      trackersOff: options.trackers === false && trackers > 0,
      dht: meta.private ? 'private' : client.dhtPort > 0 ? 'on' : 'off',
      pex: meta.private ? 'private' : 'on',
      ...(stallAfterMs !== undefined ? { afterMs: stallAfterMs } : {}),
    });
    session.on('tracker-response', ({ url }) => watch.trackerAnswered(url));
    session.on('tracker-error', ({ url, message }) => watch.trackerFailed(url, message));
    session.on('peer-disconnected', ({ reason }) => watch.peerDisconnected(reason));
    session.on('peers-learned', ({ source, addresses }) => watch.peersLearned(source, addresses.length));
    stall = watch;
  });
  const ticker = setInterval(() => {
    const stats = session.stats();
    const current = session.done ? undefined : stall?.check({ ...stats, dht: client.dhtStats });
    if (current?.kind !== stalled) {
      stalled = current?.kind;
      if (current) {
        reporter.info(`stalled: ${current.reason}`);
        reporter.event('stalled', { kind: current.kind, reason: current.reason });
      } else reporter.event('unstalled');
    }
    reporter.progress(stats, current ? `stalled: ${current.reason}` : undefined);
  }, 500);
  try {
    await session.start();
    // Addresses the metadata phase heard of (its trackers, x.pe) are not the user's: as one origin
    // of their own they take a fair share of the address book and may be evicted, so a tracker's
    // 20,000 junk addresses cannot fill it for good (as `--peer` addresses, which never leave, would).
    for (const address of discovered) session.addPeer(address, 'tracker', 'metadata phase');
    const code = await outcome;
    if (fatal) throw fatal;
    reporter.progress(session.stats());
    return summarize(session, code, reporter);
  } finally {
    endLogging();
    clearInterval(ticker);
    if (seedTimer) clearTimeout(seedTimer);
    if (onSignal.handler) {
      process.off('SIGINT', onSignal.handler);
      process.off('SIGTERM', onSignal.handler);
    }
    await session.stop();
  }
}

/**
 * How long without peers and tracker answers before the progress line says so. 60 s; the
 * environment variable LODESTONE_STALL_NOTICE_MS (whole milliseconds) overrides it, for tests.
 */
function stallNoticeMs(): number | undefined {
  const text = process.env.LODESTONE_STALL_NOTICE_MS;
  if (text === undefined || !/^\d+$/.test(text)) return undefined;
  return Number(text);
}

/** Throws a StorageError unless `root`, or the closest existing folder above it, is writable. */
async function assertWritableFolder(root: string): Promise<void> {
  for (let dir = root; ; dir = dirname(dir)) {
    try {
      await access(dir, constants.W_OK);
      return;
    } catch (error) {
      // Missing folders are created on the first write: what matters is the closest existing one.
      if (!isMissingFile(error) || dirname(dir) === dir) throw toStorageError(error, dir, 'write');
    }
  }
}

function summarize(session: TorrentSession, code: number, reporter: Reporter): number {
  const stats = session.stats();
  const seconds = reporter.elapsedSeconds();
  if (code === ExitCode.ok && session.done) {
    const rate = stats.downloadedBytes / Math.max(seconds, 0.001);
    reporter.info(
      `done: ${formatBytes(stats.wantedBytes)} verified in ${seconds.toFixed(1)}s ` +
        `(downloaded ${formatBytes(stats.downloadedBytes)} at ${formatBytes(rate)}/s, uploaded ${formatBytes(stats.uploadedBytes)})`,
    );
    reporter.event('done', {
      verifiedBytes: stats.verifiedBytes,
      wantedBytes: stats.wantedBytes,
      wantedVerifiedBytes: stats.wantedVerifiedBytes,
      downloadedBytes: stats.downloadedBytes,
      uploadedBytes: stats.uploadedBytes,
      seconds,
    });
    return ExitCode.ok;
  }
  if (code === ExitCode.ok) return ExitCode.incomplete;
  const percent = (stats.wantedVerifiedBytes / Math.max(stats.wantedBytes, 1)) * 100;
  if (!session.done) reporter.info(`stopped at ${percent.toFixed(1)}%; run the same command again to resume`);
  reporter.event('stopped', {
    verifiedBytes: stats.verifiedBytes,
    wantedBytes: stats.wantedBytes,
    wantedVerifiedBytes: stats.wantedVerifiedBytes,
    downloadedBytes: stats.downloadedBytes,
    uploadedBytes: stats.uploadedBytes,
  });
  return code === ExitCode.interrupted && session.done ? ExitCode.ok : code;
}

/** Logs the session's events as asked; returns what to call at the end (the last counters line). */
function attachLogging(session: TorrentSession, options: SwarmOptions, reporter: Reporter): () => void {
  const verbose = options.verbose === true || options.trace === true;
  const log = (text: string): void => {
    if (verbose) reporter.log(text);
  };
  const endCounters = countDiscovery(session, reporter, verbose);
  session.on('checking', (p) => {
    if (p.checked === p.total && p.total > 0)
      reporter.info(`checked existing data: ${p.valid}/${p.total} pieces valid`);
    reporter.event('checking', { ...p });
  });
  session.on('ready', ({ verifiedPieces, piecesHashed }) =>
    reporter.event('ready', { verifiedPieces, piecesHashed }),
  );
  session.on('resume', (info) => {
    if (info.record === 'used')
      reporter.info(
        `resume record: ${info.piecesTrusted} pieces trusted, ${info.filesChanged} changed files, ${info.piecesHashed} pieces hashed`,
      );
    reporter.event('resume', { ...info });
  });
  session.on('resume-warning', ({ message }) => {
    reporter.log(`lodestone: warning: ${message}`);
    reporter.event('resume-warning', { message });
  });
  session.on('tracker-response', ({ url, response }) => {
    log(`tracker ${url}: ${response.peers.length} peers, interval ${response.interval}s`);
    reporter.event('tracker-response', {
      url,
      peers: response.peers.length,
      interval: response.interval,
      seeders: response.seeders,
      leechers: response.leechers,
    });
  });
  session.on('tracker-error', ({ url, message }) => {
    log(`tracker ${url} failed: ${message}`);
    reporter.event('tracker-error', { url, message });
  });
  session.on('tracker-warning', ({ url, message }) => {
    log(`tracker ${url} warns: ${message}`);
    reporter.event('tracker-warning', { url, message });
  });
  session.on('peer-connected', ({ address, direction, encryption, transport }) => {
    log(`peer ${address} connected (${direction}, ${transport}, ${encryption})`);
    reporter.event('peer-connected', { address, direction, encryption, transport });
  });
  session.on('peer-disconnected', ({ address, reason }) => {
    log(`peer ${address} disconnected: ${reason}`);
    reporter.event('peer-disconnected', { address, reason });
  });
  session.on('peers-learned', ({ source, from, addresses }) => {
    log(`${source} from ${from}: ${addresses.length} new peer${addresses.length === 1 ? '' : 's'}`);
    reporter.event('peers-learned', { source, from, count: addresses.length });
  });
  session.on('peer-banned', ({ address, reason }) => {
    reporter.log(`peer ${address} banned: ${reason}`);
    reporter.event('peer-banned', { address, reason });
  });
  // A bug caught at a boundary: one line always (it ended a connection or a round), the stack with --debug.
  session.on('internal-error', ({ error, peer }) => {
    const where = peer ? ` (peer ${peer})` : '';
    const stack = process.argv.includes('--debug') ? `\n${error.stack}` : ' (--debug shows the stack)';
    reporter.log(`lodestone: internal error${where}: ${error.message}${stack}`);
    reporter.event('internal-error', { message: error.message, ...(peer ? { peer } : {}) });
  });
  session.on('piece-verified', ({ index }) => reporter.event('piece-verified', { index }));
  session.on('piece-failed', ({ index, peers }) => {
    log(`piece ${index} failed its hash check (from ${peers.join(', ')})`);
    reporter.event('piece-failed', { index, peers });
  });
  session.on('peer-dial-failed', ({ address, reason, message }) => {
    log(`peer ${address} not connected (${reason}): ${message}`);
    reporter.event('peer-dial-failed', { address, reason, message });
  });
  if (options.trace) {
    session.on('wire', ({ peer, direction, message }) => {
      reporter.log(`${direction === 'in' ? '<-' : '->'} ${peer} ${describeMessage(message)}`);
    });
  }
  return endCounters;
}

/** How often (at most) `--verbose` prints the discovery counters while they change. */
const COUNTERS_EVERY_MS = 10_000;

/**
 * The per-source counters `doctor` reports, kept during a download: with --verbose a line when
 * they changed (at most every 10 s) and one at the end; with --json a `discovery` event at the end.
 */
function countDiscovery(session: TorrentSession, reporter: Reporter, verbose: boolean): () => void {
  const counters = new DiscoveryCounters();
  let changed = false;
  const change = (): void => {
    changed = true;
  };
  session.on('tracker-response', ({ response }) => {
    counters.trackerAnswered(response.peers.length);
    change();
  });
  session.on('tracker-error', () => {
    counters.trackerFailed();
    change();
  });
  session.on('peer-dial-failed', ({ reason }) => {
    counters.dialFailed(reason);
    change();
  });
  session.on('peer-connected', ({ address }) => {
    counters.peerConnected(address);
    change();
  });
  session.on('peer-disconnected', ({ address, reason }) => {
    counters.peerDisconnected(address, reason);
    change();
  });
  const timer = setInterval(() => {
    if (!changed || !verbose) return;
    changed = false;
    reporter.log(`discovery: ${counters.describe()}`);
  }, COUNTERS_EVERY_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    if (verbose) reporter.log(`discovery: ${counters.describe()}`);
    reporter.event('discovery', { ...counters.summary() });
  };
}
