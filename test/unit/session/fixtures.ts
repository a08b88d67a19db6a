import { randomBytes } from 'node:crypto';
import type { TorrentMetadata } from '../../../src/metainfo/types.js';
import { PiecePicker } from '../../../src/policy/piece-picker.js';
import { Downloader, type DownloaderOptions } from '../../../src/session/downloader.js';
import type { PeerState } from '../../../src/session/peer-state.js';
import { PieceAssembler } from '../../../src/session/piece-assembler.js';
import type { Message } from '../../../src/wire/types.js';
import { pieceHashesOf } from '../../helpers/piece-hashes.js';

/** Metadata for `content` cut into pieces of `pieceLength`: only the fields the session's parts read. */
export function metaFor(content: Buffer, pieceLength: number): TorrentMetadata {
  const pieceCount = Math.ceil(content.length / pieceLength);
  return {
    pieceLength,
    pieceCount,
    lastPieceLength: content.length - (pieceCount - 1) * pieceLength,
    pieceHashes: pieceHashesOf(content, pieceLength),
    totalLength: content.length,
  } as TorrentMetadata;
}

export interface RecordedRequest {
  index: number;
  begin: number;
  length: number;
}

/**
 * The parts of a PeerConnection the Downloader uses: flow state, with the requests and cancels
 * it sends recorded. `bytesPerSecond` is the download rate the Downloader sees.
 */
export class FakeDownloaderConnection {
  readonly requests: RecordedRequest[] = [];
  readonly cancels: RecordedRequest[] = [];
  /** Every message sent through send(), in order. */
  readonly sent: Message[] = [];
  closed = false;
  peerChoking = false;
  amInterested = false;
  amChoking = true;
  cancelsSent = 0;
  /** Blocks sent with sendPiece (the Uploader's path). */
  readonly pieces: RecordedRequest[] = [];
  /** Bytes waiting in the (fake) socket: set it to test backpressure. */
  writableLength = 0;
  readonly download: { rate: () => number };
  readonly address: { host: string; port: number };
  constructor(
    readonly key: string,
    bytesPerSecond = 0,
    host = '127.0.0.1',
  ) {
    this.download = { rate: () => bytesPerSecond };
    this.address = { host, port: 6881 };
  }
  send(message: Message): void {
    this.sent.push(message);
    if (message.type === 'choke') this.amChoking = true;
    if (message.type === 'unchoke') this.amChoking = false;
    if (message.type === 'cancel') this.cancelsSent++;
    if (message.type === 'interested') this.amInterested = true;
    if (message.type === 'not-interested') this.amInterested = false;
    if (message.type === 'cancel')
      this.cancels.push({ index: message.index, begin: message.begin, length: message.length });
  }
  sendRequests(requests: readonly RecordedRequest[]): void {
    for (const request of requests) this.requests.push(request);
  }
  sendPiece(index: number, begin: number, block: Uint8Array, onSent?: () => void): void {
    this.pieces.push({ index, begin, length: block.length });
    onSent?.();
  }
  waitForDrain(): Promise<void> {
    return Promise.resolve();
  }
  close(reason?: string): void {
    this.closed = true;
    this.closeReason = reason;
  }
  closeReason: string | undefined;
}

/**
 * A Downloader over random content of `pieceCount` pieces of `pieceLength`, with a picker
 * (deterministic random), an assembler whose storage takes every write, and its peer map.
 */
export function downloaderHarness(
  pieceCount: number,
  pieceLength: number,
  options: { maxPartialPieces?: number; downloader?: DownloaderOptions } = {},
) {
  const data = randomBytes(pieceCount * pieceLength);
  const meta = metaFor(data, pieceLength);
  const picker = new PiecePicker({
    pieceCount,
    pieceLength,
    totalLength: data.length,
    random: () => 0.5,
    ...(options.maxPartialPieces !== undefined ? { maxPartialPieces: options.maxPartialPieces } : {}),
  });
  const peers = new Map<string, PeerState>();
  const downloader = new Downloader(
    meta,
    picker,
    new PieceAssembler(meta, { writePiece: async () => {} }),
    peers,
    options.downloader ?? {},
  );
  return { data, meta, picker, peers, downloader };
}
