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

/**
 * 'queued': will be served; 'rejected': refused with a BEP 6 reject (fast-extension peers);
 * 'ignored': refused silently (BEP 3 peers, which have no reject); 'violation': the request is
 * out of range, the peer broke the protocol and should be dropped.
 */
/** Rejects stop while this many socket high-water marks wait unsent (see Uploader#refuse). */
const REJECT_BACKLOG_MARKS = 4;

export type RequestVerdict = 'queued' | 'rejected' | 'ignored' | 'violation';

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
    // Requests while choked (but for an allowed-fast piece), for pieces we lack or beyond our
    // queue are refused: silently for a BEP 3 peer (BEP 3 leaves them undefined), with a reject
    // for a fast-extension peer (BEP 6: every request gets exactly one piece or reject).
    const request = { index, begin, length };
    if (
      !this.#mayServe(peer, index) ||
      !this.#have().has(index) ||
      peer.uploadQueue.length >= this.#maxQueued
    )
      return this.#refuse(peer, request);
    peer.uploadQueue.push(request);
    void this.#serve(peer);
    return 'queued';
  }

  onCancel(peer: PeerState, index: number, begin: number, length: number): void {
    const queue = peer.uploadQueue;
    const at = queue.findIndex((r) => r.index === index && r.begin === begin && r.length === length);
    if (at < 0) return;
    const [cancelled] = queue.splice(at, 1);
    // BEP 6: a cancelled request is still answered, by its piece or (here) a reject.
    if (peer.fast) this.#refuse(peer, cancelled!);
  }

  /**
   * A choke discards the peer's queued requests (BEP 3). With the fast extension a choke no
   * longer cancels them implicitly: each is rejected, except those for allowed-fast pieces,
   * which stay queued and are served while choked (BEP 6).
   */
  onChoke(peer: PeerState): void {
    if (!peer.fast) {
      peer.uploadQueue.length = 0;
      return;
    }
    const kept = peer.uploadQueue.filter((r) => peer.allowedFastOut.has(r.index));
    for (const request of peer.uploadQueue)
      if (!peer.allowedFastOut.has(request.index)) this.#refuse(peer, request);
    peer.uploadQueue.length = 0;
    peer.uploadQueue.push(...kept);
  }

  /** While we choke a peer, only its allowed-fast pieces are served. */
  #mayServe(peer: PeerState, index: number): boolean {
    return !peer.connection.amChoking || peer.allowedFastOut.has(index);
  }

  /**
   * Rejects a request of a fast peer (BEP 6). Not while four high-water marks already wait in
   * its socket: a peer that sends requests without reading our answers would otherwise make us
   * buffer a reject per request without bound; such a request is ignored as for a BEP 3 peer.
   */
  #refuse(peer: PeerState, request: { index: number; begin: number; length: number }): RequestVerdict {
    if (!peer.fast || peer.connection.writableLength > REJECT_BACKLOG_MARKS * this.#highWaterMark)
      return 'ignored';
    peer.connection.send({ type: 'reject', ...request });
    return 'rejected';
  }

  async #serve(peer: PeerState): Promise<void> {
    if (peer.uploading) return;
    peer.uploading = true;
    const connection = peer.connection;
    try {
      while (peer.uploadQueue.length > 0 && !connection.closed) {
        if (connection.writableLength > this.#highWaterMark) {
          await connection.waitForDrain();
          continue;
        }
        // Rate limits (docs/rate-limits.md): the next block waits for the upload quota.
        if (connection.uploadThrottled) {
          await connection.waitForUploadQuota();
          continue;
        }
        const request = peer.uploadQueue.shift()!;
        if (!this.#mayServe(peer, request.index)) {
          this.#refuse(peer, request);
          continue;
        }
        const { block, release } = await this.#reader.lease(request.index, request.begin, request.length);
        if (connection.closed) {
          release();
          break;
        }
        // Choked while the block was read: onChoke no longer saw this request, so refuse it here.
        if (!this.#mayServe(peer, request.index)) {
          release();
          this.#refuse(peer, request);
          continue;
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
