import { pieceLength } from '../metainfo/piece-map.js';
import type { TorrentMetadata } from '../metainfo/types.js';
import type { BlockLease } from '../storage/read-cache.js';
import { MAX_BLOCK_SIZE } from '../wire/types.js';
import type { PeerState } from './peer-state.js';

/** Where served blocks come from (the session's ReadCache): each lease is released once sent. */
export interface BlockReader {
  lease(index: number, begin: number, length: number): Promise<BlockLease>;
}

export interface UploaderOptions {
  /**
   * Most requests we queue per peer (our advertised `reqq`); beyond, requests
   * are dropped. Generous, as libtorrent's 2000: an entry costs a few bytes,
   * and clients that pipeline past a small `reqq` (aria2 does) would otherwise
   * stall until their request timeout on every dropped one. @default 2000
   */
  maxQueuedRequests?: number;
  /** Stop reading more blocks while this much waits in a peer's socket. @default 1 MiB */
  socketHighWaterMark?: number;
}

export type RequestVerdict = 'queued' | 'ignored' | 'violation';

/**
 * The upload half of the session: validates peers' requests and serves them
 * from verified pieces, one peer's queue at a time and never faster than its
 * socket drains, so a greedy peer cannot make us buffer without bound.
 */
export class Uploader {
  readonly #meta: TorrentMetadata;
  readonly #reader: BlockReader;
  readonly #have: () => { has(index: number): boolean };
  readonly #maxQueued: number;
  readonly #highWaterMark: number;
  #uploadedBytes = 0;

  constructor(
    meta: TorrentMetadata,
    reader: BlockReader,
    have: () => { has(index: number): boolean },
    options: UploaderOptions = {},
  ) {
    this.#meta = meta;
    this.#reader = reader;
    this.#have = have;
    this.#maxQueued = options.maxQueuedRequests ?? 2000;
    this.#highWaterMark = options.socketHighWaterMark ?? 1024 * 1024;
  }

  get uploadedBytes(): number {
    return this.#uploadedBytes;
  }

  get maxQueuedRequests(): number {
    return this.#maxQueued;
  }

  /** Judges a request; 'violation' means the peer broke the protocol and should be dropped. */
  onRequest(peer: PeerState, index: number, begin: number, length: number): RequestVerdict {
    if (index < 0 || index >= this.#meta.pieceCount) return 'violation';
    if (
      length <= 0 ||
      length > MAX_BLOCK_SIZE ||
      begin < 0 ||
      begin + length > pieceLength(this.#meta, index)
    )
      return 'violation';
    // Requests while choked, or for pieces we lack, are dropped silently (BEP 3 leaves them undefined).
    if (peer.connection.amChoking || !this.#have().has(index)) return 'ignored';
    if (peer.uploadQueue.length >= this.#maxQueued) return 'ignored';
    peer.uploadQueue.push({ index, begin, length });
    void this.#serve(peer);
    return 'queued';
  }

  onCancel(peer: PeerState, index: number, begin: number, length: number): void {
    const queue = peer.uploadQueue;
    const at = queue.findIndex((r) => r.index === index && r.begin === begin && r.length === length);
    if (at >= 0) queue.splice(at, 1);
  }

  /** A choke discards the peer's queued requests (BEP 3). */
  onChoke(peer: PeerState): void {
    peer.uploadQueue.length = 0;
  }

  async #serve(peer: PeerState): Promise<void> {
    if (peer.uploading) return;
    peer.uploading = true;
    const connection = peer.connection;
    try {
      while (peer.uploadQueue.length > 0 && !connection.closed && !connection.amChoking) {
        if (connection.writableLength > this.#highWaterMark) {
          await connection.waitForDrain();
          continue;
        }
        const request = peer.uploadQueue.shift()!;
        const { block, release } = await this.#reader.lease(request.index, request.begin, request.length);
        if (connection.closed || connection.amChoking) {
          release();
          break;
        }
        connection.sendPiece(request.index, request.begin, block, release);
        this.#uploadedBytes += block.length;
      }
    } catch (error) {
      connection.close(`cannot serve a block: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      peer.uploading = false;
    }
  }
}
