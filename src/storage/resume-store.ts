import * as fs from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { StorageError } from '../errors.js';
import { writeFileAtomic } from './atomic-file.js';
import { isMissingFile, toStorageError } from './io-errors.js';
import { MAX_RESUME_RECORD_BYTES } from './resume-record.js';

/**
 * Where resume records are kept, one per torrent by info-hash (40 lowercase hex digits).
 * A daemon or an embedder can supply its own (a database, one file for all torrents).
 */
export interface ResumeStore {
  /** The record's bytes, or `undefined` when there is none. Fails with a StorageError. */
  load(infoHashHex: string): Promise<Uint8Array | undefined>;
  /** Replaces the record, atomically: after a crash the old or the new record is there, whole. */
  save(infoHashHex: string, data: Uint8Array): Promise<void>;
}

const HEX40 = /^[0-9a-f]{40}$/;

function checkKey(infoHashHex: string): string {
  if (!HEX40.test(infoHashHex))
    throw new StorageError(`invalid info-hash "${infoHashHex}" for a resume record`);
  return infoHashHex;
}

/**
 * Resume records as files `<dir>/<infohash>.resume`. A save writes a temporary file in the same
 * folder, fsyncs it, renames it over the record and fsyncs the folder, so a crash or a power loss
 * leaves either the previous record or the new one, never a torn one. The folder is created on
 * the first save.
 */
export class DirectoryResumeStore implements ResumeStore {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  /** The record's path for an info-hash. */
  pathOf(infoHashHex: string): string {
    return join(this.dir, `${checkKey(infoHashHex)}.resume`);
  }

  async load(infoHashHex: string): Promise<Uint8Array | undefined> {
    const path = this.pathOf(infoHashHex);
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(path, 'r');
    } catch (error) {
      if (isMissingFile(error)) return undefined;
      throw toStorageError(error, path, 'read');
    }
    try {
      const { size } = await handle.stat();
      // Never read an unbounded file into memory: a record this big is not ours (decode rejects it).
      const buffer = Buffer.alloc(Math.min(size, MAX_RESUME_RECORD_BYTES + 1));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      return buffer.subarray(0, bytesRead);
    } catch (error) {
      throw toStorageError(error, path, 'read');
    } finally {
      await handle.close().catch(() => undefined);
    }
  }

  async save(infoHashHex: string, data: Uint8Array): Promise<void> {
    const path = this.pathOf(infoHashHex);
    try {
      await writeFileAtomic(path, data);
    } catch (error) {
      throw toStorageError(error, path, 'write');
    }
  }
}
