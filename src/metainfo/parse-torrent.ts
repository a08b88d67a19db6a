/**
 * Torrent files (BEP 3) and metadata fetched for a magnet (BEP 9) into TorrentMetadata.
 *
 * Decoding is strict first; real-world torrents often have unsorted or duplicate
 * dictionary keys, so exactly that failure is retried leniently. Bytes after a torrent
 * file's root dictionary (a trailing newline some sites append) are ignored with a
 * warning, as libtorrent and Transmission do; the info-hash never covers them. The info-hash is
 * always SHA-1 over the exact `info` bytes as they appear in the input (found with
 * `spanOf`), never over a re-encoding, so a torrent with unsorted keys keeps the
 * info-hash every other client computes for it.
 *
 * Fields that decide where bytes go (the info dictionary) are validated strictly;
 * descriptive fields outside it (trackers, web seeds, comment, dates) are read
 * forgivingly: a wrong type there is ignored rather than failing the whole torrent.
 */
import { createHash } from 'node:crypto';
import {
  type BencodeDict,
  type BencodeValue,
  bytesToText,
  decodePrefix,
  getBytes,
  isDict,
  spanOf,
} from '../bencode/index.js';
import { BencodeError, LodestoneError, MetainfoError } from '../errors.js';
import { readInfoFields } from './info-dictionary.js';
import type { MetainfoWarning, TorrentMetadata } from './types.js';

/** What a magnet or the outer torrent dictionary adds to the info dictionary. */
/** The fields of a torrent file outside `info` (for {@link parseInfoDictionary} of fetched metadata). */
export interface MetadataExtras {
  /** Announce tiers (BEP 12). */
  announceTiers?: string[][];
  /** Web seed URLs (BEP 19). */
  webSeeds?: string[];
  /** `creation date`. */
  creationDate?: Date;
  /** `comment`. */
  comment?: string;
  /** `created by`. */
  createdBy?: string;
  warnings?: MetainfoWarning[];
}

const UNSORTED_OR_DUPLICATE = /\b(unsorted|duplicate) dictionary key\b/;

/**
 * Values a torrent may hold, as libtorrent's `max_decode_tokens` (3,000,000): a file costs about
 * five (its dictionary, length, path list and components), so ~500,000 files. Memory stays
 * bounded by the input: every value takes at least two bytes of it.
 */
const TORRENT_MAX_VALUES = 3_000_000;

/**
 * Decodes strictly, retrying leniently only for key-order problems; bencode errors become
 * MetainfoErrors. With `allowTrailing`, bytes after the value are left alone and `end` says
 * where the value stopped; otherwise they are an error.
 */
function decodeForgivingKeyOrder(
  bytes: Uint8Array,
  what: string,
  allowTrailing: boolean,
  /** Where the info dictionary sits: 2 in a torrent file, 1 for a bare info dictionary. */
  infoDepth: number,
): { value: BencodeValue; end: number } {
  const decodeOnce = (lenient: boolean): { value: BencodeValue; end: number } => {
    // Spans: only the root and `info` need one (the info-hash is taken over its bytes).
    // `info.files` (depth 2 in a torrent, 1 in a bare info dictionary) is checked but decoded
    // one entry at a time by readFiles: a 100,000-file list is never held decoded at once.
    const decoded = decodePrefix(bytes, {
      lenient,
      maxItems: TORRENT_MAX_VALUES,
      spanDepth: 2,
      deferList: (key, depth) => key === 'files' && depth === infoDepth,
    });
    if (!allowTrailing && decoded.end !== bytes.length) {
      throw new BencodeError('trailing data after value', decoded.end);
    }
    return decoded;
  };
  try {
    try {
      return decodeOnce(false);
    } catch (error) {
      if (error instanceof BencodeError && UNSORTED_OR_DUPLICATE.test(error.message)) {
        return decodeOnce(true);
      }
      throw error;
    }
  } catch (error) {
    if (error instanceof BencodeError)
      throw new MetainfoError(`${what} is not valid bencode: ${error.message}`);
    throw error;
  }
}

/** Trims, drops empty and repeated URLs (the first occurrence wins), drops tiers left empty. */
export function normalizeTiers(tiers: readonly (readonly string[])[]): string[][] {
  const seen = new Set<string>();
  const out: string[][] = [];
  for (const tier of tiers) {
    const kept: string[] = [];
    for (const raw of tier) {
      const url = raw.trim();
      if (url === '' || seen.has(url)) continue;
      seen.add(url);
      kept.push(url);
    }
    if (kept.length > 0) out.push(kept);
  }
  return out;
}

/** BEP 12: `announce-list` wins when it yields any tracker; otherwise `announce` alone is one tier. */
function readAnnounceTiers(root: BencodeDict): string[][] {
  const announceList = root.get('announce-list');
  const tiers: string[][] = [];
  if (Array.isArray(announceList)) {
    for (const tier of announceList) {
      if (Array.isArray(tier)) {
        tiers.push(tier.filter((url) => url instanceof Uint8Array).map((url) => bytesToText(url)));
      } else if (tier instanceof Uint8Array) {
        // Some creators write a flat list of URLs; each becomes its own tier.
        tiers.push([bytesToText(tier)]);
      }
    }
  }
  const fromList = normalizeTiers(tiers);
  if (fromList.length > 0) return fromList;
  const announce = getBytes(root, 'announce');
  return announce === undefined ? [] : normalizeTiers([[bytesToText(announce)]]);
}

/** BEP 19 `url-list`: a single string or a list of strings. */
function readWebSeeds(root: BencodeDict): string[] {
  const value = root.get('url-list');
  if (value instanceof Uint8Array) return normalizeTiers([[bytesToText(value)]]).flat();
  if (Array.isArray(value)) {
    const urls = value.filter((url) => url instanceof Uint8Array).map((url) => bytesToText(url));
    return normalizeTiers([urls]).flat();
  }
  return [];
}

function readText(root: BencodeDict, key: string): string | undefined {
  const bytes = getBytes(root, `${key}.utf-8`) ?? getBytes(root, key);
  return bytes === undefined ? undefined : bytesToText(bytes);
}

/** The latest `creation date` taken as seconds: 9999-12-31T23:59:59Z. */
const MAX_CREATION_SECONDS = 253_402_300_799;

/**
 * BEP 3 `creation date`, seconds since 1970. A value that is no plausible time in seconds
 * (milliseconds, an integer beyond 2^53 decoded as a bigint) is ignored with a warning: it
 * describes the torrent, it never decides where bytes go.
 */
function readCreationDate(root: BencodeDict, warnings: MetainfoWarning[]): Date | undefined {
  const value = root.get('creation date');
  if (typeof value === 'bigint' || (typeof value === 'number' && value > MAX_CREATION_SECONDS)) {
    warnings.push({
      code: 'LODESTONE_WARN_CREATION_DATE',
      message: `'creation date' ${value} is not a time in seconds; ignored`,
    });
    return undefined;
  }
  if (typeof value !== 'number' || value <= 0) return undefined;
  return new Date(value * 1000);
}

function readExtras(root: BencodeDict, warnings: MetainfoWarning[]): MetadataExtras {
  return {
    announceTiers: readAnnounceTiers(root),
    webSeeds: readWebSeeds(root),
    creationDate: readCreationDate(root, warnings),
    comment: readText(root, 'comment'),
    createdBy: readText(root, 'created by'),
    warnings,
  };
}

function buildMetadata(info: BencodeDict, infoBytes: Buffer, extras: MetadataExtras): TorrentMetadata {
  const fields = readInfoFields(info);
  const infoHash = createHash('sha1').update(infoBytes).digest();
  const meta: TorrentMetadata = {
    infoHash,
    infoHashHex: infoHash.toString('hex'),
    infoBytes,
    ...fields,
    announceTiers: normalizeTiers(extras.announceTiers ?? []),
    webSeeds: normalizeTiers([extras.webSeeds ?? []]).flat(),
    warnings: [...(extras.warnings ?? [])],
  };
  if (extras.creationDate !== undefined) meta.creationDate = extras.creationDate;
  if (extras.comment !== undefined) meta.comment = extras.comment;
  if (extras.createdBy !== undefined) meta.createdBy = extras.createdBy;
  return meta;
}

/**
 * Parses a .torrent file. Throws MetainfoError (LODESTONE_ERR_METAINFO for invalid
 * bencode or fields, LODESTONE_ERR_UNSAFE_PATH for hostile file names) or
 * LodestoneError LODESTONE_ERR_UNSUPPORTED for v2-only torrents. Bytes after the root
 * dictionary are ignored and reported in `warnings`.
 */
export function parseTorrent(bytes: Uint8Array): TorrentMetadata {
  const { value: root, end } = decodeForgivingKeyOrder(bytes, 'torrent', true, 2);
  if (!isDict(root)) throw new MetainfoError('torrent is not a bencoded dictionary');
  const info = root.get('info');
  if (info === undefined) throw new MetainfoError("'info' is missing");
  if (!isDict(info)) throw new MetainfoError("'info' must be a dictionary");
  const span = spanOf(info);
  if (span === undefined) throw new LodestoneError('LODESTONE_ERR_METAINFO', 'decoder lost the info span');
  // A copy: the metadata must not pin (or alias) the caller's whole file buffer.
  const infoBytes = Buffer.from(bytes.subarray(span.start, span.end));
  const warnings: MetainfoWarning[] = [];
  const extras = readExtras(root, warnings);
  if (end < bytes.length) {
    const ignored = bytes.length - end;
    warnings.push({
      code: 'LODESTONE_WARN_TRAILING_DATA',
      message:
        ignored === 1
          ? "1 byte after the torrent's root dictionary was ignored"
          : `${ignored} bytes after the torrent's root dictionary were ignored`,
    });
  }
  return buildMetadata(info, infoBytes, extras);
}

/**
 * Parses a bare info dictionary (metadata fetched over ut_metadata for a magnet).
 * The info-hash is SHA-1 of `infoBytes` as given; the caller compares it with the
 * magnet's. Trackers and web seeds come from the magnet via `extras`.
 */
export function parseInfoDictionary(
  infoBytes: Uint8Array,
  extras: { announceTiers?: string[][]; webSeeds?: string[] } = {},
): TorrentMetadata {
  // No trailing bytes here: the info-hash is taken over all of `infoBytes`.
  const { value: info } = decodeForgivingKeyOrder(infoBytes, 'info dictionary', false, 1);
  if (!isDict(info)) throw new MetainfoError("'info' must be a dictionary");
  return buildMetadata(info, Buffer.from(infoBytes), {
    announceTiers: extras.announceTiers ?? [],
    webSeeds: extras.webSeeds ?? [],
  });
}
