import type { TorrentMetadata } from '../../../src/metainfo/types.js';
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
  closed = false;
  peerChoking = false;
  amInterested = false;
  readonly download: { rate: () => number };
  constructor(
    readonly key: string,
    bytesPerSecond = 0,
  ) {
    this.download = { rate: () => bytesPerSecond };
  }
  send(message: Message): void {
    if (message.type === 'interested') this.amInterested = true;
    if (message.type === 'not-interested') this.amInterested = false;
    if (message.type === 'cancel')
      this.cancels.push({ index: message.index, begin: message.begin, length: message.length });
  }
  sendRequests(requests: readonly RecordedRequest[]): void {
    for (const request of requests) this.requests.push(request);
  }
}
