import { access, writeFile } from 'node:fs/promises';
import { basename, isAbsolute, relative, resolve, sep } from 'node:path';
import cliProgress from 'cli-progress';
import { NAME_RULES } from '../../create/index.js';
import { createTorrent, LodestoneError, type TorrentMetadata, toMagnetUri } from '../../index.js';
import { assertSafeComponent, formatBytes } from '../../metainfo/index.js';
import { ExitCode } from '../exit-codes.js';
import { terminalText } from '../terminal-text.js';

export interface CreateOptions {
  /** Repeatable; each use is one tier, URLs of one tier separated by commas (as mktorrent's -a). */
  tracker?: string[];
  /** Repeatable; commas separate several URLs too. */
  webSeed?: string[];
  private?: boolean;
  /** Bytes, or with a binary suffix: "262144", "256KiB", "256k", "1MiB". */
  pieceLength?: string;
  output?: string;
  name?: string;
  comment?: string;
  /** Commander's `--no-date` sets this to false. */
  date?: boolean;
  force?: boolean;
  json?: boolean;
  quiet?: boolean;
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
};

/**
 * A piece length from the command line. Piece lengths are powers of two, so every
 * suffix is binary: "k", "KB" and "KiB" all mean 1024 bytes.
 */
export function parsePieceLength(text: string): number {
  const match = /^\s*(\d+)\s*([a-z]*)\s*$/i.exec(text);
  const unit = match ? SIZE_UNITS[match[2]!.toLowerCase()] : undefined;
  if (match === null || unit === undefined) {
    throw new LodestoneError(
      'LODESTONE_ERR_USAGE',
      `invalid piece length "${text}" (use bytes or a suffix: 262144, 256KiB, 1MiB)`,
    );
  }
  return Number(match[1]) * unit;
}

/** "-t a,b -t c" → [[a, b], [c]]: one tier per use, like mktorrent's -a. */
function splitTiers(values: readonly string[] | undefined): string[][] {
  return (values ?? []).map((value) => value.split(',').map((url) => url.trim()));
}

function isInside(folder: string, path: string): boolean {
  const inside = relative(folder, path);
  return inside !== '' && inside !== '..' && !inside.startsWith(`..${sep}`) && !isAbsolute(inside);
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

function outputError(path: string, error: unknown): LodestoneError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EEXIST') {
    return new LodestoneError('LODESTONE_ERR_USAGE', `${path} already exists (use --force to overwrite it)`);
  }
  return new LodestoneError('LODESTONE_ERR_IO', `cannot write ${path}: ${code ?? String(error)}`, {
    cause: error,
  });
}

function startProgressBar(): cliProgress.SingleBar {
  const bar = new cliProgress.SingleBar(
    {
      format: 'Hashing {bar} {percentage}% | {done}/{size}',
      barsize: 24,
      hideCursor: true,
      clearOnComplete: true,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(1, 0, { done: formatBytes(0), size: '?' });
  return bar;
}

function render(outputPath: string, meta: TorrentMetadata, magnet: string): string {
  const fileCount = meta.files.filter((file) => !file.padding).length;
  const lines = [
    ['Torrent', outputPath],
    ['Name', meta.name],
    ['Size', `${formatBytes(meta.totalLength)} in ${fileCount} file${fileCount === 1 ? '' : 's'}`],
    ['Pieces', `${meta.pieceCount} × ${formatBytes(meta.pieceLength)}`],
    ['Info-hash', meta.infoHashHex],
    ['Magnet', magnet],
  ];
  return `${lines.map(([label, value]) => terminalText(`${`${label}:`.padEnd(14)}${value}`)).join('\n')}\n`;
}

/** `lodestone create <input>`: hashes a file or folder and writes a .torrent. */
export async function createCommand(input: string, options: CreateOptions): Promise<number> {
  const pieceLength = options.pieceLength === undefined ? undefined : parsePieceLength(options.pieceLength);
  const inputPath = resolve(input);
  // The same default and check as createTorrent, early: the output file is named after it.
  const name = options.name ?? basename(inputPath);
  assertSafeComponent(name, 'the torrent name', NAME_RULES);
  const output = options.output ?? `${name}.torrent`;
  const outputPath = resolve(output);
  // A .torrent written into the folder it describes would be hashed into the next one made of it.
  if (isInside(inputPath, outputPath)) {
    throw new LodestoneError(
      'LODESTONE_ERR_USAGE',
      `${output} is inside ${input}; choose another path with -o`,
    );
  }
  // Fail before hashing (possibly for minutes), and again atomically when writing.
  if (!options.force && (await exists(outputPath))) throw outputError(output, { code: 'EEXIST' });

  const showBar = !options.quiet && !options.json && process.stdout.isTTY === true;
  const bar = showBar ? startProgressBar() : undefined;
  let created: Awaited<ReturnType<typeof createTorrent>>;
  try {
    created = await createTorrent(input, {
      trackers: splitTiers(options.tracker),
      webSeeds: splitTiers(options.webSeed).flat(),
      private: options.private === true,
      ...(pieceLength === undefined ? {} : { pieceLength }),
      ...(options.name === undefined ? {} : { name: options.name }),
      ...(options.comment === undefined ? {} : { comment: options.comment }),
      ...(options.date === false ? { creationDate: false as const } : {}),
      onProgress: (hashed, total) => {
        bar?.setTotal(total);
        bar?.update(hashed, { done: formatBytes(hashed), size: formatBytes(total) });
      },
    });
  } finally {
    bar?.stop();
  }
  const { torrent, meta, skipped } = created;
  try {
    await writeFile(outputPath, torrent, { flag: options.force ? 'w' : 'wx' });
  } catch (error) {
    throw outputError(output, error);
  }

  if (!options.quiet) {
    for (const entry of skipped)
      process.stderr.write(`lodestone: warning: ${terminalText(`skipped ${entry.path}: ${entry.reason}`)}\n`);
  }
  const magnet = toMagnetUri(meta);
  if (options.json) {
    const summary = {
      torrent: outputPath,
      infoHash: meta.infoHashHex,
      magnet,
      pieceLength: meta.pieceLength,
      pieceCount: meta.pieceCount,
      totalLength: meta.totalLength,
    };
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  } else if (!options.quiet) {
    process.stdout.write(render(output, meta, magnet));
  }
  return ExitCode.ok;
}
