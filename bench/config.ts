/**
 * The benchmark's command line: options, defaults (full and --quick), and
 * their checks. See `node dist/bench/run.js --help`.
 */
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { SourceKind } from './clients.js';
import { ENCRYPTION_LEECHERS } from './encryption-row.js';
import { BenchError, MiB, parseSize } from './measure.js';
import type { PhaseConfig } from './phases.js';
import { MANY_FILES_LEECHERS, ROW_KINDS, type RowsConfig } from './rows.js';
import { scaleSides } from './scale-row.js';
import { LEECHER_KINDS, type LeecherKind, SEEDER_KINDS, type SeederKind } from './swarm.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const USAGE = `Usage: npm run bench -- [options]   (or: node dist/bench/run.js [options])

  --quick                 64 MiB, 1 round, no Lodestone-seeder phase, short micro-benchmarks;
                          skips clients whose tool is missing (fails instead in CI)
  --size <size>           content size, e.g. 256MiB, 1GiB (default 1GiB; quick: 64MiB)
  --files <n>             split the content into n files (default 1: a single-file torrent)
  --piece-length <size>   piece length, a power of two (default 256KiB, mktorrent's)
  --runs <n>              rounds of every download (default 3; quick: 1)
  --seeders <list>        swarm seeders, of ${SEEDER_KINDS.join(',')} (default
                          aria2,qbittorrent,transmission: other clients only; the targets are
                          judged on this swarm unless it includes lodestone)
  --leechers <list>       of ${LEECHER_KINDS.join(',')} (default: all)
  --lodestone-seeder-leechers <list>
                          leechers of the second swarm phase, the same seeders plus a Lodestone
                          seeder, reported apart (default: all; quick: none; 'none' to skip)
  --no-lodestone-seeder   same as --lodestone-seeder-leechers none
  --sources <list>        torrent,magnet (default: both)
  --solo-seeders <list>   seeders measured alone (default aria2,qbittorrent,lodestone; 'none' to
                          skip; Transmission alone serves ~8 MiB/s on loopback: 2 min per GiB)
  --solo-leechers <list>  leechers of the solo phase (default aria2,webtorrent)
  --rows <list>           extra rows, each on its own torrent, after the phases above:
                          many-files (a torrent of --many-files small files plus four 8 MiB
                          files, from one seeder, downloaded by Lodestone, aria2 and
                          python3-libtorrent), big-pieces (16 MiB pieces from the --seeders
                          swarm, Lodestone's peak RSS against the documented budget),
                          encryption (Lodestone with --encryption require vs disable from the
                          same seeders, --runs interleaved rounds, against the 0.8× target),
                          utp (uTP only: Lodestone and libtorrent from a uTP-only libtorrent
                          seeder, Lodestone↔Lodestone over uTP vs TCP; --runs rounds), dht
                          (a trackerless magnet on a loopback DHT of libtorrent and
                          bittorrent-dht nodes: start → first peer and metadata, Lodestone vs
                          aria2 vs WebTorrent; --runs rounds, about 25 s each), scale
                          (--scale-torrents small torrents seeded by the lodestone daemon and
                          by transmission-daemon: first start, restart, RSS, idle CPU),
                          many-peers (one torrent from 20 vs 200 peers: the --seeders swarm's
                          real clients plus scripted seeders; throughput and CPU per GiB,
                          --runs rounds, against the 15% target);
                          default all seven ('none' to skip; quick: small versions)
  --many-files <n>        files of the many-files row (default 100000, about 325 MiB; quick: 300)
  --many-files-seeder <s> its seeder, of ${SEEDER_KINDS.join(',')} (default qbittorrent)
  --many-files-leechers <list>
                          of ${MANY_FILES_LEECHERS.join(',')} (default: all)
  --big-pieces-size <size>
                          content of the big-pieces row (default 256MiB; quick: 64MiB)
  --big-piece-length <size>
                          its piece length (default 16MiB)
  --row-runs <n>          rounds of the many-files and big-pieces rows (default 1)
  --encryption-size <size>
                          content of the encryption row (default 256MiB; quick: 32MiB)
  --encryption-seeders <list>
                          its seeders, of ${SEEDER_KINDS.join(',')} (default: --seeders without
                          lodestone; 'lodestone' alone gives the Lodestone↔Lodestone figure)
  --encryption-leechers <list>
                          its leechers, of lodestone,libtorrent (default lodestone): libtorrent
                          (pe_forced + RC4 vs pe_disabled) is a reference, reported apart, never
                          judged: what a C++ client gets from the same seeders on this machine
  --utp-size <size>       content of the uTP row (default 256MiB; quick: 32MiB)
  --scale-torrents <n>    torrents of the scale row (default 1000; quick: 200)
  --scale-idle <seconds>  idle CPU measured over this long (default 20; quick: 5)
  --scale-side <side>     Lodestone's side of the scale row: daemon (the real lodestone daemon over
                          RPC, default), client (one library Client) or both
  --many-peers <list>     peer counts of the many-peers row (default 20,200)
  --many-peers-size <size>
                          content of the many-peers row (default 1GiB; quick: 32MiB)
  --no-micro              skip the micro-benchmarks      --micro-only  only the micro-benchmarks
  --micro-filter <text>   only micro-benchmarks whose name contains text
  --no-verify             skip the SHA-1 comparison of each download with the original
  --timeout <seconds>     per download (default: 120 s + 1 s per 4 MiB)
  --settle <seconds>      idle pause before each download (default 5; quick: 0), so every
                          client starts from the same memory state (see the note in the report)
  --out <dir>             where latest.md and latest.json go (default bench-results/ in the repo)
  -h, --help`;

export interface Config extends PhaseConfig, RowsConfig {
  quick: boolean;
  size: number;
  files: number;
  pieceLengthExp: number;
  runs: number;
  seeders: SeederKind[];
  leechers: LeecherKind[];
  sources: SourceKind[];
  soloSeeders: SeederKind[];
  soloLeechers: LeecherKind[];
  micro: boolean;
  downloads: boolean;
  microFilter?: string;
  verify: boolean;
  timeoutMs: number;
  out: string;
}

function list<T extends string>(
  text: string | undefined,
  allowed: readonly T[],
  fallback: T[],
  flag: string,
): T[] {
  if (text === undefined) return fallback;
  if (text === 'none' || text === '') return [];
  const items = text.split(',').map((item) => item.trim().toLowerCase());
  for (const item of items) {
    if (!allowed.includes(item as T))
      throw new BenchError(`${flag}: unknown "${item}" (one of ${allowed.join(', ')})`);
  }
  return [...new Set(items as T[])];
}

function positiveInteger(text: string | undefined, fallback: number, flag: string): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1) throw new BenchError(`${flag} must be a positive integer`);
  return value;
}

export function parseConfig(argv: string[]): Config | undefined {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean' },
      size: { type: 'string' },
      files: { type: 'string' },
      'piece-length': { type: 'string' },
      runs: { type: 'string' },
      seeders: { type: 'string' },
      leechers: { type: 'string' },
      'lodestone-seeder-leechers': { type: 'string' },
      'no-lodestone-seeder': { type: 'boolean' },
      sources: { type: 'string' },
      'solo-seeders': { type: 'string' },
      'solo-leechers': { type: 'string' },
      rows: { type: 'string' },
      'many-files': { type: 'string' },
      'many-files-seeder': { type: 'string' },
      'many-files-leechers': { type: 'string' },
      'big-pieces-size': { type: 'string' },
      'big-piece-length': { type: 'string' },
      'row-runs': { type: 'string' },
      'encryption-size': { type: 'string' },
      'encryption-seeders': { type: 'string' },
      'encryption-leechers': { type: 'string' },
      'utp-size': { type: 'string' },
      'scale-torrents': { type: 'string' },
      'scale-idle': { type: 'string' },
      'scale-side': { type: 'string' },
      'many-peers': { type: 'string' },
      'many-peers-size': { type: 'string' },
      'no-micro': { type: 'boolean' },
      'micro-only': { type: 'boolean' },
      'micro-filter': { type: 'string' },
      'no-verify': { type: 'boolean' },
      timeout: { type: 'string' },
      settle: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (v.help) return undefined;
  const quick = v.quick === true;
  const size = parseSize(v.size ?? (quick ? '64MiB' : '1GiB'));
  const pieceLength = parseSize(v['piece-length'] ?? '256KiB');
  const pieceLengthExp = Math.log2(pieceLength);
  if (!Number.isInteger(pieceLengthExp) || pieceLengthExp < 15 || pieceLengthExp > 28) {
    throw new BenchError('--piece-length must be a power of two from 32KiB to 256MiB');
  }
  const seeders = list(v.seeders, SEEDER_KINDS, ['aria2', 'qbittorrent', 'transmission'], '--seeders');
  const leechers = list(v.leechers, LEECHER_KINDS, [...LEECHER_KINDS], '--leechers');
  if (v['no-lodestone-seeder'] === true && v['lodestone-seeder-leechers'] !== undefined) {
    throw new BenchError('--no-lodestone-seeder and --lodestone-seeder-leechers exclude each other');
  }
  const lodestoneSeederLeechers = list(
    v['no-lodestone-seeder'] === true ? 'none' : v['lodestone-seeder-leechers'],
    LEECHER_KINDS,
    quick ? [] : leechers,
    '--lodestone-seeder-leechers',
  );
  const timeoutSeconds = v.timeout === undefined ? 120 + size / (4 * MiB) : Number(v.timeout);
  if (!(timeoutSeconds > 0)) throw new BenchError('--timeout must be a positive number of seconds');
  const settleSeconds = v.settle === undefined ? (quick ? 0 : 5) : Number(v.settle);
  if (!(settleSeconds >= 0)) throw new BenchError('--settle must be a number of seconds, 0 or more');
  const bigPieceLength = parseSize(v['big-piece-length'] ?? '16MiB');
  if (
    !Number.isInteger(Math.log2(bigPieceLength)) ||
    bigPieceLength < 32 * 1024 ||
    bigPieceLength > 256 * MiB
  ) {
    throw new BenchError('--big-piece-length must be a power of two from 32KiB to 256MiB');
  }
  const [manyFilesSeeder] = list(
    v['many-files-seeder'],
    SEEDER_KINDS,
    ['qbittorrent'],
    '--many-files-seeder',
  );
  if (manyFilesSeeder === undefined) throw new BenchError('--many-files-seeder needs a seeder');
  return {
    quick,
    size,
    rows: list(v.rows, ROW_KINDS, [...ROW_KINDS], '--rows'),
    manyFiles: positiveInteger(v['many-files'], quick ? 300 : 100_000, '--many-files'),
    manyFilesSeeder,
    manyFilesLeechers: list(
      v['many-files-leechers'],
      MANY_FILES_LEECHERS,
      [...MANY_FILES_LEECHERS],
      '--many-files-leechers',
    ),
    bigPiecesSize: parseSize(v['big-pieces-size'] ?? (quick ? '64MiB' : '256MiB')),
    bigPieceLength,
    rowRuns: positiveInteger(v['row-runs'], 1, '--row-runs'),
    encryptionSize: parseSize(v['encryption-size'] ?? (quick ? '32MiB' : '256MiB')),
    encryptionSeeders: list(
      v['encryption-seeders'],
      SEEDER_KINDS,
      seeders.filter((kind) => kind !== 'lodestone'),
      '--encryption-seeders',
    ),
    encryptionLeechers: list(
      v['encryption-leechers'],
      ENCRYPTION_LEECHERS,
      ['lodestone'],
      '--encryption-leechers',
    ),
    utpSize: parseSize(v['utp-size'] ?? (quick ? '32MiB' : '256MiB')),
    scaleTorrents: positiveInteger(v['scale-torrents'], quick ? 200 : 1000, '--scale-torrents'),
    scaleIdleSeconds: positiveInteger(v['scale-idle'], quick ? 5 : 20, '--scale-idle'),
    scaleSides: scaleSides(v['scale-side']),
    manyPeersSize: parseSize(v['many-peers-size'] ?? (quick ? '32MiB' : '1GiB')),
    manyPeers: (v['many-peers'] ?? '20,200')
      .split(',')
      .map((count) => positiveInteger(count, 0, '--many-peers')),
    files: positiveInteger(v.files, 1, '--files'),
    pieceLengthExp,
    runs: positiveInteger(v.runs, quick ? 1 : 3, '--runs'),
    seeders,
    leechers,
    lodestoneSeederLeechers,
    sources: list(v.sources, ['torrent', 'magnet'] as const, ['torrent', 'magnet'], '--sources'),
    soloSeeders: list(
      v['solo-seeders'],
      SEEDER_KINDS,
      ['aria2', 'qbittorrent', 'lodestone'],
      '--solo-seeders',
    ),
    soloLeechers: list(v['solo-leechers'], LEECHER_KINDS, ['aria2', 'webtorrent'], '--solo-leechers'),
    micro: v['no-micro'] !== true,
    downloads: v['micro-only'] !== true,
    ...(v['micro-filter'] !== undefined ? { microFilter: v['micro-filter'] } : {}),
    verify: v['no-verify'] !== true,
    timeoutMs: timeoutSeconds * 1000,
    settleMs: settleSeconds * 1000,
    out: resolve(v.out ?? join(ROOT, 'bench-results')),
  };
}
