import {
  type BencodeDict,
  type BencodeValue,
  decode,
  encode,
  getBytes,
  getInt,
  getList,
} from '../bencode/index.js';
import { Bitfield } from '../bitfield.js';
import { LodestoneError, StorageError } from '../errors.js';

/** The format version this code writes and reads; a record of another version is rejected. */
export const RESUME_RECORD_VERSION = 1;
const FORMAT = 'lodestone-resume';
/** A record is small (a bit per piece, two integers per file); more than this is not one of ours. */
export const MAX_RESUME_RECORD_BYTES = 64 * 1024 * 1024;

/**
 * What one file looked like when the record was written: its size and modification time in
 * nanoseconds (`fs.stat(path, { bigint: true }).mtimeNs`), or `undefined` when it did not exist.
 */
export type ResumeFileState = { size: number; mtimeNs: bigint } | undefined;

/**
 * A torrent's fast-resume record: what was verified on disk and what the files looked like then.
 * A piece is in `have` only when its bytes had reached the files (see docs/resume.md).
 */
export interface ResumeRecord {
  /** The 20-byte v1 info-hash. */
  infoHash: Uint8Array;
  pieceCount: number;
  pieceLength: number;
  /** Pieces verified and written when the record was made. */
  have: Bitfield;
  /** One entry per file of the torrent, in the torrent's order (padding files included). */
  files: ResumeFileState[];
  /** The folder the files were in (absolute). */
  savePath: string;
  /** Piece bytes sent to peers, all sessions together. */
  uploadedBytes: number;
  /** Piece bytes received from peers, all sessions together. */
  downloadedBytes: number;
  /** When the record was made, milliseconds since the epoch (from the injected clock). */
  savedAtMs: number;
}

/** What a record must match to be used: the torrent and its piece layout. */
export interface ResumeExpectation {
  infoHash: Uint8Array;
  pieceCount: number;
  pieceLength: number;
  fileCount: number;
}

function invalid(message: string, cause?: unknown): StorageError {
  return new StorageError(
    `resume record ${message}`,
    'LODESTONE_ERR_RESUME_RECORD',
    cause === undefined ? undefined : { cause },
  );
}

/** Bencodes a record (keys sorted by the encoder; integers beyond 2^53 as bigints). */
export function encodeResumeRecord(record: ResumeRecord): Buffer {
  const files: BencodeValue[] = record.files.map((file) =>
    file === undefined ? [] : [file.size, file.mtimeNs],
  );
  const dict: BencodeDict = new Map<string, BencodeValue>([
    ['downloaded', record.downloadedBytes],
    ['files', files],
    ['format', Buffer.from(FORMAT)],
    ['info-hash', record.infoHash],
    ['piece-count', record.pieceCount],
    ['piece-length', record.pieceLength],
    ['pieces', record.have.bytes],
    ['save-path', Buffer.from(record.savePath)],
    ['saved-at', record.savedAtMs],
    ['uploaded', record.uploadedBytes],
    ['version', RESUME_RECORD_VERSION],
  ]);
  return Buffer.from(encode(dict));
}

function count(dict: BencodeDict, key: string): number {
  const value = getInt(dict, key);
  if (value === undefined || value < 0) throw invalid(`has no valid "${key}"`);
  return value;
}

function fileState(value: BencodeValue, index: number): ResumeFileState {
  if (!Array.isArray(value)) throw invalid(`file ${index} is not a list`);
  if (value.length === 0) return undefined;
  const [size, mtime] = value;
  if (value.length !== 2 || typeof size !== 'number' || size < 0)
    throw invalid(`file ${index} has no valid size`);
  if (typeof mtime !== 'number' && typeof mtime !== 'bigint')
    throw invalid(`file ${index} has no valid mtime`);
  return { size, mtimeNs: BigInt(mtime) };
}

/**
 * Decodes a record and checks it against the torrent it is meant for. Anything wrong (not
 * bencode, truncated, another format or version, another torrent, another piece layout or file
 * count) throws a StorageError with code `LODESTONE_ERR_RESUME_RECORD` and nothing else: the
 * caller then checks every piece, as with no record.
 */
export function decodeResumeRecord(data: Uint8Array, expect?: ResumeExpectation): ResumeRecord {
  if (data.length > MAX_RESUME_RECORD_BYTES) throw invalid(`is too large (${data.length} bytes)`);
  let root: BencodeValue;
  try {
    root = decode(data);
  } catch (error) {
    if (error instanceof LodestoneError) throw invalid(`is not valid bencode: ${error.message}`, error);
    throw error;
  }
  if (!(root instanceof Map)) throw invalid('is not a dictionary');
  const format = getBytes(root, 'format');
  if (!format || Buffer.from(format).toString('latin1') !== FORMAT)
    throw invalid('is not a Lodestone resume record');
  const version = getInt(root, 'version');
  if (version !== RESUME_RECORD_VERSION)
    throw invalid(`has version ${String(version)}, not ${RESUME_RECORD_VERSION}`);
  const infoHash = getBytes(root, 'info-hash');
  if (infoHash?.length !== 20) throw invalid('has no valid info-hash');
  const pieceCount = count(root, 'piece-count');
  const pieceLength = count(root, 'piece-length');
  const pieces = getBytes(root, 'pieces');
  if (!pieces || pieces.length !== Math.ceil(pieceCount / 8) || !Bitfield.spareBitsClear(pieceCount, pieces))
    throw invalid('has a pieces bitfield of the wrong size');
  const fileList = getList(root, 'files');
  if (!fileList) throw invalid('has no file list');
  const savePath = getBytes(root, 'save-path');
  if (!savePath) throw invalid('has no save path');
  const record: ResumeRecord = {
    infoHash: Buffer.from(infoHash),
    pieceCount,
    pieceLength,
    have: new Bitfield(pieceCount, pieces),
    files: fileList.map(fileState),
    savePath: Buffer.from(savePath).toString('utf8'),
    uploadedBytes: count(root, 'uploaded'),
    downloadedBytes: count(root, 'downloaded'),
    savedAtMs: count(root, 'saved-at'),
  };
  if (expect) {
    if (!Buffer.from(expect.infoHash).equals(record.infoHash)) throw invalid('is for another torrent');
    if (record.pieceCount !== expect.pieceCount || record.pieceLength !== expect.pieceLength)
      throw invalid('has another piece layout');
    if (record.files.length !== expect.fileCount) throw invalid('has another file count');
  }
  return record;
}
