/**
 * The encryption row (issue 16): Lodestone downloads one torrent from one swarm
 * of seeders with `--encryption require` (every connection RC4) and with
 * `--encryption disable` (every connection plaintext), interleaved within each
 * round (the order alternates by round), and the report gives encrypted ÷
 * plaintext throughput per round against the 0.8× target, with CPU per GiB for
 * both. The seeders accept both kinds of connection, so the same swarm serves
 * both downloads: aria2 `--bt-min-crypto-level=arc4` (RC4 whenever a peer
 * comes encrypted; `--bt-require-crypto=true` would refuse the plaintext
 * download), Transmission `encryption: 1` (prefer encrypted; 2 would refuse
 * plaintext), qBittorrent `Session\Encryption=0` (libtorrent's "enabled": both
 * accepted, RC4 picked when it is the only method offered; 1 would refuse
 * plaintext), a Lodestone seeder at its default `prefer`.
 *
 * `--encryption-leechers lodestone,libtorrent` adds python3-libtorrent as a reference leecher
 * in the same rounds (`pe_forced` with RC4 only vs `pe_disabled`): what a C++ client's RC4
 * costs with the same seeders on the same machine. It is reported apart and never judged.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { formatSize } from './measure.js';
import { download, type Phase, type SeederCpu } from './phases.js';
import { cell, type DownloadRecord, digits, type Spread, spread, table } from './report.js';
import type { RowsContext } from './rows.js';
import { prepareTorrent, type RunningSeeder, type SeederKind, startSeeder } from './swarm.js';

/** Issue 16: encrypted throughput must be at least this fraction of plaintext's. */
export const ENCRYPTION_TARGET = 0.8;
export const ENCRYPTION_MODES = ['require', 'disable'] as const;
export type EncryptionMode = (typeof ENCRYPTION_MODES)[number];
/** Leechers of the row: Lodestone is judged; libtorrent is a reference. */
export const ENCRYPTION_LEECHERS = ['lodestone', 'libtorrent'] as const;
export type EncryptionLeecher = (typeof ENCRYPTION_LEECHERS)[number];

export interface EncryptionRowInfo {
  totalSize: string;
  pieceLength: string;
  seeders: string;
}

export interface ModeSummary {
  mibPerSecond?: Spread;
  /** The Lodestone leecher's CPU per GiB downloaded. */
  cpuSecondsPerGiB?: Spread;
  /** All the seeders' CPU together while serving that download, per GiB. */
  seederCpuSecondsPerGiB?: Spread;
  /** Each seeder's CPU per GiB, by seeder kind (medians over the downloads). */
  seederCpuByKind: Record<string, Spread>;
  /** Peers connected in each download, by encryption and transport, e.g. ['3 rc4 · 2 tcp + 1 utp'] (one per download). */
  peers: string[];
  ok: number;
  failed: number;
}

export interface EncryptionSummary {
  /** Encrypted ÷ plaintext MiB/s, within each round. */
  throughput?: Spread;
  /** MiB/s, CPU s/GiB of each mode. */
  encrypted: ModeSummary;
  plaintext: ModeSummary;
  /** Whether the median ratio reached the target; undefined when no round has both downloads. */
  held?: boolean;
}

/** The ratios and per-mode figures of one leecher's records in the encryption row (pure). */
export function summarizeEncryption(
  records: DownloadRecord[],
  leecher: EncryptionLeecher = 'lodestone',
): EncryptionSummary | undefined {
  const mine = records.filter((r) => r.phase === 'encryption' && r.leecher === leecher);
  if (mine.length === 0) return undefined;
  const of = (mode: EncryptionMode) => {
    const group = mine.filter((r) => r.encryption === mode);
    const ok = group.filter((r) => r.ok);
    return {
      mibPerSecond: spread(ok.map((r) => r.mibPerSecond)),
      cpuSecondsPerGiB: spread(ok.map((r) => r.cpuSecondsPerGiB)),
      seederCpuSecondsPerGiB: spread(ok.map((r) => r.seederCpuSecondsPerGiB)),
      seederCpuByKind: spreadByKind(ok.map((r) => r.seederCpuByKind)),
      peers: ok.map((r) =>
        [r.peersByEncryption, r.peersByTransport]
          .map((counts) =>
            Object.entries(counts ?? {})
              .map(([kind, count]) => `${count} ${kind}`)
              .join(' + '),
          )
          .filter((text) => text !== '')
          .join(' · '),
      ),
      ok: ok.length,
      failed: group.length - ok.length,
    };
  };
  const perRound = [...new Set(mine.map((r) => r.round))].map((round) => {
    const find = (mode: EncryptionMode) =>
      mine.find((r) => r.ok && r.round === round && r.encryption === mode)?.mibPerSecond;
    const encrypted = find('require');
    const plaintext = find('disable');
    return encrypted !== undefined && plaintext !== undefined && plaintext > 0
      ? encrypted / plaintext
      : undefined;
  });
  const throughput = spread(perRound);
  return {
    ...(throughput !== undefined ? { throughput } : {}),
    encrypted: of('require'),
    plaintext: of('disable'),
    ...(throughput !== undefined ? { held: throughput.median >= ENCRYPTION_TARGET } : {}),
  };
}

/** Per kind, the spread of its values over the records that have one. */
function spreadByKind(values: (Record<string, number> | undefined)[]): Record<string, Spread> {
  const kinds = [...new Set(values.flatMap((byKind) => Object.keys(byKind ?? {})))];
  const out: Record<string, Spread> = {};
  for (const kind of kinds) {
    const one = spread(values.map((byKind) => byKind?.[kind]));
    if (one !== undefined) out[kind] = one;
  }
  return out;
}

/** Seeders of the row: the --encryption-seeders list (default: the swarm's other clients). */
export async function encryptionRow(context: RowsContext): Promise<void> {
  const { config } = context;
  const kinds: SeederKind[] = config.encryptionSeeders;
  if (kinds.length === 0) return;
  const root = join(context.workDir, 'encryption');
  const removeRoot = context.cleanup.add(`encryption folder ${root}`, () =>
    rm(root, { recursive: true, force: true }),
  );
  try {
    await mkdir(root, { recursive: true });
    context.log(`encryption row: ${formatSize(config.encryptionSize)} from ${kinds.join(', ')}`);
    const torrent = await prepareTorrent({
      root,
      size: config.encryptionSize,
      fileCount: 1,
      pieceLengthExp: 18,
      trackerUrl: context.tracker.httpUrl,
    });
    await context.tracker.addInfoHash(torrent.facts.infoHashHex);
    const seederNames = kinds.join('+');
    context.info.encryption = {
      totalSize: formatSize(torrent.totalSize),
      pieceLength: formatSize(2 ** 18),
      seeders: seederNames,
    };
    const phase: Phase = {
      torrent,
      tracker: context.tracker,
      workDir: context.workDir,
      cleanup: context.cleanup,
      config: { ...context.config, runs: config.runs },
      records: context.records,
      aborted: context.aborted,
      log: context.log,
    };
    const seeders: RunningSeeder[] = [];
    try {
      for (const kind of kinds) {
        seeders.push(
          await startSeeder(kind, torrent, context.tracker, context.cleanup, config.timeoutMs, {
            acceptEncrypted: true,
          }),
        );
      }
      // CPU of all the seeders together while they serve one download (encryption costs them too).
      // And each seeder's own: which of them pays for RC4, and which served little at all.
      const seedersCpu = async (): Promise<SeederCpu | undefined> => {
        const samples = await Promise.all(seeders.map((seeder) => seeder.sample()));
        if (samples.some((sample) => sample === undefined)) return undefined;
        const byKind: Record<string, number> = {};
        seeders.forEach((seeder, i) => {
          byKind[seeder.kind] = (byKind[seeder.kind] ?? 0) + samples[i]!.cpuSeconds;
        });
        return { cpuSeconds: Object.values(byKind).reduce((sum, seconds) => sum + seconds, 0), byKind };
      };
      for (let round = 1; round <= config.runs; round++) {
        // Odd rounds start encrypted, even rounds plaintext: neither always goes first.
        const order = round % 2 === 1 ? ENCRYPTION_MODES : [...ENCRYPTION_MODES].reverse();
        for (const leecher of config.encryptionLeechers) {
          for (const encryption of order) {
            if (context.aborted()) return;
            const base = {
              phase: 'encryption',
              seeders: seederNames,
              leecher,
              source: 'torrent',
              round,
              encryption,
            } as const;
            // libtorrent dials the seeders at once (it announces too); Lodestone finds them by the tracker.
            const peers =
              leecher === 'libtorrent'
                ? seeders.map((seeder) => ({ host: seeder.address, port: seeder.port }))
                : undefined;
            await download(phase, base, seedersCpu, peers);
          }
        }
      }
    } finally {
      await Promise.all(seeders.map((seeder) => seeder.stop()));
    }
  } finally {
    await removeRoot();
  }
}

/** Each seeder's CPU per GiB, RC4 beside plaintext (medians): who pays for encryption, and who served little. */
function seederCpuLine(summary: EncryptionSummary): string[] {
  const rc4 = summary.encrypted.seederCpuByKind;
  const plain = summary.plaintext.seederCpuByKind;
  const kinds = [...new Set([...Object.keys(rc4), ...Object.keys(plain)])];
  if (kinds.length === 0) return [];
  const value = (s: Spread | undefined) => (s === undefined ? '–' : digits(s.median));
  return [
    '',
    `Each seeder's CPU s/GiB, RC4 / plaintext (median): ${kinds
      .map((kind) => `${kind} ${value(rc4[kind])} / ${value(plain[kind])}`)
      .join(' · ')}.`,
  ];
}

/** The report's section for the encryption row (empty when it did not run). */
export function renderEncryption(records: DownloadRecord[], info: EncryptionRowInfo | undefined): string[] {
  const summary = summarizeEncryption(records);
  if (summary === undefined) return [];
  const reference = summarizeEncryption(records, 'libtorrent');
  const modeRow = (name: string, m: EncryptionSummary['encrypted']) => [
    name,
    m.failed > 0 ? `${m.ok}/${m.ok + m.failed}` : String(m.ok),
    cell(m.mibPerSecond),
    cell(m.cpuSecondsPerGiB),
    cell(m.seederCpuSecondsPerGiB),
    m.peers.map((peers) => peers || '–').join(', '),
  ];
  const verdict =
    summary.held === undefined
      ? 'not judged (no round with both downloads)'
      : summary.held
        ? 'yes'
        : '**no**';
  return [
    '',
    `## Encryption${info ? `: ${info.totalSize} in pieces of ${info.pieceLength}, from ${info.seeders}` : ''} (Lodestone from the .torrent; median, min–max)`,
    '',
    'The same seeders serve both; the order alternates by round. `require`: every connection RC4 (MSE); `disable`: every connection plaintext.',
    '',
    table(
      [
        'lodestone --encryption',
        'ok',
        'MiB/s',
        'CPU s/GiB',
        'seeders’ CPU s/GiB',
        'peers connected, each round',
      ],
      [modeRow('require (RC4)', summary.encrypted), modeRow('disable (plaintext)', summary.plaintext)],
    ),
    ...seederCpuLine(summary),
    '',
    table(
      ['encrypted ÷ plaintext MiB/s, same round', 'target', 'held'],
      [[cell(summary.throughput), `≥ ${ENCRYPTION_TARGET}×`, verdict]],
    ),
    ...(reference === undefined
      ? []
      : [
          '',
          'Reference, not judged: python3-libtorrent as the leecher in the same rounds (`pe_forced` with RC4 only vs `pe_disabled`), from the same seeders.',
          '',
          table(
            [
              'libtorrent',
              'ok',
              'MiB/s',
              'CPU s/GiB',
              'seeders’ CPU s/GiB',
              'encrypted ÷ plaintext, same round',
            ],
            [
              [...modeRow('RC4', reference.encrypted).slice(0, 5), cell(reference.throughput)],
              [...modeRow('plaintext', reference.plaintext).slice(0, 5), ''],
            ],
          ),
        ]),
  ];
}
