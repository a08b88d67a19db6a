/**
 * The hashing half of torrent creation: streams the files in order in big reads, cuts
 * the stream into pieces across file boundaries and hashes them on a HashPool.
 */
import { open } from 'node:fs/promises';
import { LodestoneError } from '../errors.js';
import type { HashPool } from '../storage/hasher.js';

/** One file to hash, in torrent order. */
export interface SourceFile {
  absolutePath: string;
  /** Components inside the torrent's folder (empty for a single-file torrent). */
  path: string[];
  length: number;
}

const READ_CHUNK = 4 * 1024 * 1024;
/** Pieces waiting for or being hashed: enough to keep workers busy, bounded in count and bytes. */
const MAX_PIECES_IN_FLIGHT = 64;
const MAX_BYTES_IN_FLIGHT = 64 * 1024 * 1024;
const HASH_LENGTH = 20;

export function ioError(action: string, path: string, error: unknown): LodestoneError {
  const code = (error as NodeJS.ErrnoException).code;
  const why = code === 'ENOENT' ? 'no such file or folder' : (code ?? String(error));
  return new LodestoneError('LODESTONE_ERR_IO', `cannot ${action} ${path}: ${why}`, { cause: error });
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new LodestoneError('LODESTONE_ERR_ABORTED', 'torrent creation aborted');
}

export interface HashJob {
  files: readonly SourceFile[];
  pieceLength: number;
  totalLength: number;
  pool: HashPool;
  onProgress: ((hashedBytes: number, totalBytes: number) => void) | undefined;
  signal: AbortSignal | undefined;
}

/** Reads exactly `length` bytes at `position` into `buffer`; a short read means the file changed. */
async function readFully(
  handle: Awaited<ReturnType<typeof open>>,
  file: SourceFile,
  buffer: Buffer,
  position: number,
  length: number,
): Promise<void> {
  for (let filled = 0; filled < length; ) {
    const { bytesRead } = await handle
      .read(buffer, filled, length - filled, position + filled)
      .catch((error: unknown) => {
        throw ioError('read', file.absolutePath, error);
      });
    if (bytesRead === 0) {
      throw new LodestoneError('LODESTONE_ERR_IO', `${file.absolutePath} shrank while it was being hashed`);
    }
    filled += bytesRead;
  }
}

/** A read buffer shared by the pieces cut from it; reusable once none of them is still hashing. */
interface Chunk {
  buffer: Buffer;
  users: number;
  cut: boolean;
}

/**
 * Cuts the concatenated file contents into pieces and hashes them on the pool. At most a
 * bounded number of pieces wait or hash at once, so memory stays bounded; read buffers are
 * recycled because fresh 4 MiB allocations (page faults) cost more than the reads themselves.
 */
class PieceCutter {
  readonly #job: HashJob;
  readonly #pieces: Buffer;
  readonly #maxInFlight: number;
  readonly #freeBuffers: Buffer[] = [];
  #blocks: Buffer[] = [];
  #chunks: Chunk[] = [];
  #filled = 0;
  #nextIndex = 0;
  #inFlight = 0;
  #hashedBytes = 0;
  #failure: unknown;
  #finished = false;
  #wake: (() => void) | undefined;

  constructor(job: HashJob) {
    this.#job = job;
    this.#pieces = Buffer.alloc(Math.ceil(job.totalLength / job.pieceLength) * HASH_LENGTH);
    // Enough queued pieces to keep every worker busy; the byte cap bounds memory for huge pieces.
    const byCount = Math.max(MAX_PIECES_IN_FLIGHT, 2 * job.pool.size);
    this.#maxInFlight = Math.max(2, Math.min(byCount, Math.floor(MAX_BYTES_IN_FLIGHT / job.pieceLength)));
  }

  takeBuffer(): Buffer {
    return this.#freeBuffers.pop() ?? Buffer.allocUnsafe(READ_CHUNK);
  }

  throwIfFailed(): void {
    if (this.#failure !== undefined) throw this.#failure;
  }

  /** Cuts the first `length` bytes of `buffer` (from takeBuffer) into pieces. */
  async push(buffer: Buffer, length: number): Promise<void> {
    const chunk: Chunk = { buffer, users: 0, cut: false };
    const { pieceLength } = this.#job;
    for (let offset = 0; offset < length; ) {
      const take = Math.min(pieceLength - this.#filled, length - offset);
      this.#blocks.push(buffer.subarray(offset, offset + take));
      if (this.#chunks.at(-1) !== chunk) {
        this.#chunks.push(chunk);
        chunk.users++;
      }
      this.#filled += take;
      offset += take;
      if (this.#filled === pieceLength) await this.#submit();
    }
    chunk.cut = true;
    this.#release(chunk);
  }

  /** Hashes the short last piece, waits for every piece and returns the concatenated hashes. */
  async finish(): Promise<Buffer> {
    try {
      if (this.#filled > 0) await this.#submit();
      while (this.#inFlight > 0) await this.#waitForSettle();
      this.throwIfFailed();
      return this.#pieces;
    } finally {
      this.#finished = true;
    }
  }

  /** Stops progress reports after a failure; pieces still hashing settle unseen. */
  abandon(): void {
    this.#finished = true;
  }

  #release(chunk: Chunk): void {
    if (chunk.cut && chunk.users === 0) this.#freeBuffers.push(chunk.buffer);
  }

  #waitForSettle(): Promise<void> {
    return new Promise<void>((resolveWait) => {
      this.#wake = resolveWait;
    });
  }

  async #submit(): Promise<void> {
    while (this.#inFlight >= this.#maxInFlight && this.#failure === undefined) await this.#waitForSettle();
    this.throwIfFailed();
    throwIfAborted(this.#job.signal);
    const index = this.#nextIndex++;
    const length = this.#filled;
    const chunks = this.#chunks;
    const blocks = this.#blocks;
    this.#blocks = [];
    this.#chunks = [];
    this.#filled = 0;
    this.#inFlight++;
    const settle = (): void => {
      this.#inFlight--;
      for (const chunk of chunks) {
        chunk.users--;
        this.#release(chunk);
      }
      this.#wake?.();
      this.#wake = undefined;
    };
    this.#job.pool.hash(blocks).then(
      (digest) => {
        digest.copy(this.#pieces, index * HASH_LENGTH);
        this.#hashedBytes += length;
        settle();
        if (!this.#finished && !this.#job.signal?.aborted)
          this.#job.onProgress?.(this.#hashedBytes, this.#job.totalLength);
      },
      (error: unknown) => {
        this.#failure ??= error;
        settle();
      },
    );
  }
}

/** The concatenated SHA-1 piece hashes of the files. Throws LodestoneError (IO, ABORTED) or the pool's error. */
export async function hashPieces(job: HashJob): Promise<Buffer> {
  const cutter = new PieceCutter(job);
  try {
    for (const file of job.files) {
      if (file.length === 0) continue;
      const handle = await open(file.absolutePath, 'r').catch((error: unknown) => {
        throw ioError('open', file.absolutePath, error);
      });
      try {
        if ((await handle.stat()).size !== file.length) {
          throw new LodestoneError('LODESTONE_ERR_IO', `${file.absolutePath} changed size while scanning`);
        }
        for (let position = 0; position < file.length; ) {
          throwIfAborted(job.signal);
          cutter.throwIfFailed();
          const length = Math.min(READ_CHUNK, file.length - position);
          const buffer = cutter.takeBuffer();
          await readFully(handle, file, buffer, position, length);
          position += length;
          await cutter.push(buffer, length);
        }
      } finally {
        await handle.close();
      }
    }
    return await cutter.finish();
  } catch (error) {
    cutter.abandon();
    throw error;
  }
}
