import { type FileChoice, LodestoneError } from '../index.js';

/**
 * `--files 0,2,5-7` / `--skip 1,3`: file indexes as `lodestone info` prints them (positions in the
 * torrent's file list). Every index must be a file of the torrent; anything else is a usage error.
 */
export function parseFileList(text: string, fileCount: number, flag: string): Set<number> {
  const out = new Set<number>();
  const bad = (why: string) =>
    new LodestoneError('LODESTONE_ERR_USAGE', `invalid ${flag} "${text}": ${why} (e.g. 0,2,5-7)`);
  if (text.trim() === '') throw bad('empty list');
  for (const part of text.split(',')) {
    const match = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!match) throw bad(`"${part}" is not an index or a range`);
    const first = Number(match[1]);
    const last = match[2] === undefined ? first : Number(match[2]);
    if (last < first) throw bad(`range ${first}-${last} is backwards`);
    if (last >= fileCount) throw bad(`the torrent has files 0 to ${fileCount - 1}`);
    for (let index = first; index <= last; index++) out.add(index);
  }
  return out;
}

/** The file choices of `--files` (only these) or `--skip` (all but these); undefined: every file. */
export function fileChoicesFrom(
  options: { files?: string; skip?: string },
  fileCount: number,
): FileChoice[] | undefined {
  if (options.files !== undefined && options.skip !== undefined)
    throw new LodestoneError('LODESTONE_ERR_USAGE', '--files and --skip cannot be used together');
  if (options.files === undefined && options.skip === undefined) return undefined;
  const only = options.files !== undefined;
  const listed = parseFileList(
    (only ? options.files : options.skip)!,
    fileCount,
    only ? '--files' : '--skip',
  );
  return Array.from({ length: fileCount }, (_unused, index) => ({
    wanted: listed.has(index) === only,
    priority: 'normal' as const,
  }));
}
