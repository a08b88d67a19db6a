import { addressBytes } from '../address.js';
import { Bitfield } from '../bitfield.js';
import { LodestoneError } from '../errors.js';
import { pieceLength } from '../metainfo/piece-map.js';
import type { TorrentMetadata } from '../metainfo/types.js';
import type { ConnectionEncryption } from '../net/mse/policy.js';
import { Choker } from '../policy/choker.js';
import { RechokeLimiter } from '../policy/rechoke-limiter.js';
import { CLIENT_NAME } from '../version.js';
import {
  BLOCK_SIZE,
  decodeExtensionHandshake,
  decodeMetadataMessage,
  encodeExtensionHandshake,
  encodeMetadataMessage,
  LOCAL_EXTENSION_IDS,
  METADATA_BLOCK_SIZE,
  supportsDht,
  supportsExtensionProtocol,
  supportsFastExtension,
} from '../wire/index.js';
import type { Handshake, Message } from '../wire/types.js';
import type { SessionDht } from './dht-torrent.js';
import type { Downloader } from './downloader.js';
import { FastExtension, isFastMessage } from './fast-extension.js';
import { BlockKeys, type PeerState, requestedBlockLength } from './peer-state.js';
import type { PexExchange } from './pex-exchange.js';
import type { Uploader } from './uploader.js';

/** What the handler needs of its session (kept narrow so it can be faked in tests). */
export interface PeerHandlerContext {
  readonly meta: TorrentMetadata;
  readonly peers: ReadonlyMap<string, PeerState>;
  readonly done: boolean;
  ban(key: string, reason: string): void;
  emit(
    event: 'peer-connected',
    info: {
      address: string;
      client?: string;
      direction: 'inbound' | 'outbound';
      encryption: ConnectionEncryption;
      transport: 'tcp' | 'utp';
    },
  ): boolean;
}

export interface PeerHandlerOptions {
  peerId: Buffer;
  port: number;
  uploadSlots?: number;
  clientName?: string;
  /** Where an exception thrown by a choking round run from a timer goes (the session reports it). */
  onInternalError?: (error: unknown) => void;
  /** The clock of the choker and its rate limit. @default Date.now */
  now?: () => number;
  /**
   * We set the BEP 6 reserved bit in our handshake: the fast extension applies with peers that
   * set it too. Must match the handshake the session sends. @default false
   */
  fastExtension?: boolean;
  /** Peer exchange (BEP 11): its `m` entries, and the ut_pex messages and handshakes it reads. */
  pex?: PexExchange;
  /**
   * The client's DHT (BEP 5): we send our DHT port to peers that set the DHT reserved bit, and
   * ping the node a peer's `port` message names (the first valid one per connection; the rest
   * and port 0 are ignored).
   */
  dht?: Pick<SessionDht, 'port' | 'nodeHeard'>;
}

/** BEP 10 `yourip`: tells the peer the address we see it at (helps it learn its external address). */
function yourIp(host: string): { yourip?: Uint8Array } {
  const bytes = addressBytes(host);
  return bytes ? { yourip: bytes } : {};
}

const CHOKE_INTERVAL_MS = 10_000;
/** Choking rounds asked for by events (interest, unchoked peers leaving): after a burst, one a second. */
const RECHOKE_MIN_GAP_MS = 1000;
const RECHOKE_BURST = 3;
/** Protocol violations tolerated before a peer is dropped. */
const MAX_STRIKES = 5;
/**
 * Blocks a peer may send that we never requested, beyond those our cancels and its chokes
 * explain (a cancel can cross a block already on its way). A peer past that is flooding us.
 */
const UNREQUESTED_BLOCK_ALLOWANCE = 32;
/**
 * ut_metadata answers (16 KiB each) are not sent while this much already waits in the peer's
 * send buffer: a peer that asks without reading could otherwise make us buffer without bound.
 */
const METADATA_SEND_LIMIT = 256 * 1024;

/**
 * Turns each peer's messages into calls on the downloader and uploader, runs
 * the BEP 10 extension handshake and BEP 9 metadata serving, and applies the
 * choker's decisions. One per session.
 */
export class SessionPeerHandler {
  readonly #session: PeerHandlerContext;
  readonly #downloader: Downloader;
  readonly #uploader: Uploader;
  readonly #options: PeerHandlerOptions;
  readonly #choker: Choker;
  readonly #keys: BlockKeys;
  readonly #limiter: RechokeLimiter;
  readonly #fast: FastExtension;
  /** Peers whose BEP 5 `port` message we acted on (one per connection). */
  readonly #portHeard = new WeakSet<PeerState>();
  /** When each peer was last unchoked (the `now` clock): how long it has had a slot. */
  readonly #unchokedAt = new WeakMap<PeerState, number>();
  readonly #now: () => number;
  /**
   * Peers past onHandshake by peer id (peerIdKey): a duplicate is found in O(1) rather than by
   * comparing with every connected peer (O(peers²) over a swarm, two Buffer copies per comparison).
   */
  readonly #byPeerId = new Map<string, PeerState>();
  #rechokeTimer: NodeJS.Timeout | undefined;

  constructor(
    session: PeerHandlerContext,
    downloader: Downloader,
    uploader: Uploader,
    options: PeerHandlerOptions,
  ) {
    this.#session = session;
    this.#downloader = downloader;
    this.#uploader = uploader;
    this.#options = options;
    const now = options.now ?? Date.now;
    this.#now = now;
    this.#choker = new Choker({ slots: options.uploadSlots ?? 4, now });
    this.#limiter = new RechokeLimiter({
      now,
      minGapMs: RECHOKE_MIN_GAP_MS,
      burst: RECHOKE_BURST,
      roundIntervalMs: CHOKE_INTERVAL_MS,
    });
    this.#keys = new BlockKeys(session.meta);
    this.#fast = new FastExtension(session.meta, downloader, (peer, reason, severe) =>
      this.#strike(peer, reason, severe),
    );
  }

  onHandshake(peer: PeerState, remote: Handshake): void {
    const connection = peer.connection;
    if (Buffer.from(remote.peerId).equals(this.#options.peerId)) {
      connection.close('connected to ourselves');
      return;
    }
    const id = peerIdKey(remote.peerId);
    const other = this.#byPeerId.get(id);
    if (other !== undefined && other !== peer && this.#session.peers.get(other.key) === other) {
      connection.close('already connected to this peer id');
      return;
    }
    this.#byPeerId.set(id, peer);
    if (supportsExtensionProtocol(remote.reserved)) {
      const meta = this.#session.meta;
      const payload = encodeExtensionHandshake({
        m: new Map([
          ['ut_metadata', LOCAL_EXTENSION_IDS.ut_metadata],
          ...(this.#options.pex?.handshakeEntries() ?? []),
        ]),
        v: this.#options.clientName ?? CLIENT_NAME,
        ...(this.#options.port > 0 ? { p: this.#options.port } : {}),
        reqq: this.#uploader.maxQueuedRequests,
        ...yourIp(connection.address.host),
        metadataSize: meta.infoBytes.length,
      });
      connection.send({ type: 'extended', id: 0, payload });
    }
    const dht = this.#options.dht;
    if (dht && dht.port > 0 && supportsDht(remote.reserved))
      connection.send({ type: 'port', port: dht.port });
    peer.fast = this.#options.fastExtension === true && supportsFastExtension(remote.reserved);
    this.#fast.sendAvailability(peer);
    this.#downloader.peerAdded(peer); // it hears of the pieces verified from now on
    // No choking round: a peer that just connected is not interested yet; its 'interested' asks for one.
    this.#session.emit('peer-connected', {
      address: peer.key,
      direction: connection.direction,
      encryption: connection.encryption,
      transport: connection.transport,
    });
  }

  onMessage(peer: PeerState, message: Message): void {
    const connection = peer.connection;
    switch (message.type) {
      case 'keep-alive':
        return;
      case 'choke':
        // Blocks already on their way when the peer choked are excused if they still arrive
        // (with the fast extension the requests stand, so their blocks are still requested).
        if (!peer.fast) peer.excusedBlocks += peer.requests.size;
        this.#downloader.onChoke(peer);
        return;
      case 'unchoke':
        this.#downloader.onUnchoke(peer);
        return;
      case 'interested':
        this.#onInterested(peer);
        return;
      case 'not-interested':
        // Only a peer we upload to frees a slot worth a round; a choked one changes nothing.
        if (!connection.amChoking) this.#rechokeSoon();
        return;
      case 'have':
        if (message.index >= this.#session.meta.pieceCount) {
          this.#strike(peer, 'have for a piece out of range', true);
          return;
        }
        this.#downloader.onHave(peer, message.index);
        return;
      case 'bitfield':
        this.#onBitfield(peer, message.bits);
        return;
      case 'request': {
        const verdict = this.#uploader.onRequest(peer, message.index, message.begin, message.length);
        if (verdict === 'violation') this.#strike(peer, 'request out of range', true);
        return;
      }
      case 'piece': {
        const verdict = this.#judgeBlock(peer, message.index, message.begin, message.block.length);
        if (verdict === 'requested')
          this.#downloader.onPiece(peer, message.index, message.begin, message.block);
        else if (verdict === 'unrequested') this.#downloader.onUnrequestedBlock(message.block.length);
        return;
      }
      case 'cancel':
        this.#uploader.onCancel(peer, message.index, message.begin, message.length);
        return;
      case 'extended':
        this.#onExtended(peer, message.id, message.payload);
        return;
      case 'port':
        this.#onPort(peer, message.port);
        return;
      default:
        if (isFastMessage(message)) this.#fast.onMessage(peer, message);
      // unknown ids: nothing we act on.
    }
  }

  /** BEP 5 `port`: one ping per connection at most, so a flood of them costs nothing. */
  #onPort(peer: PeerState, port: number): void {
    if (!this.#options.dht || port === 0 || this.#portHeard.has(peer)) return;
    this.#portHeard.add(peer);
    this.#options.dht.nodeHeard(peer.connection.address.host, port);
  }

  onClose(peer: PeerState): void {
    const remoteId = peer.connection.peerId;
    const id = remoteId && peerIdKey(remoteId);
    if (id !== undefined && this.#byPeerId.get(id) === peer) this.#byPeerId.delete(id);
    this.#downloader.peerGone(peer);
    // Only a peer we were uploading to frees a slot worth a round.
    if (!peer.connection.amChoking) this.#rechokeSoon();
  }

  /** Ends the pending choking round, if any (the session stopped). */
  stop(): void {
    clearTimeout(this.#rechokeTimer);
    this.#rechokeTimer = undefined;
  }

  tick(): void {
    if (this.#limiter.due()) this.#rechoke();
    for (const peer of this.#session.peers.values()) {
      // Idle peers and keep-alives: each PeerConnection's own timer.
      if (this.#session.done && peer.isSeed) peer.connection.close('both sides are seeds');
    }
  }

  /**
   * A peer became interested. With a slot free (fewer peers unchoked than the regular slots
   * plus the optimistic one) it is unchoked at once, which chokes nobody, so a downloader
   * arriving in a quiet swarm waits for no round; otherwise it waits for a round, which the
   * rate limit may delay by a second. A free slot comes only from a round or a peer leaving,
   * so a flapping peer cannot get through this more often than rounds come.
   */
  #onInterested(peer: PeerState): void {
    if (!peer.connection.amChoking) return;
    let unchoked = 0;
    for (const other of this.#session.peers.values()) if (!other.connection.amChoking) unchoked++;
    if (unchoked < (this.#options.uploadSlots ?? 4) + 1) this.#unchoke(peer);
    else this.#rechokeSoon();
  }

  #onBitfield(peer: PeerState, bits: Uint8Array): void {
    const pieceCount = this.#session.meta.pieceCount;
    // BEP 3 sends a bitfield only first, but aria2 sends its bitfield again mid-connection;
    // like libtorrent we take a later one as the peer's new availability rather than drop it.
    if (bits.length !== Math.ceil(pieceCount / 8)) {
      this.#strike(peer, 'bitfield of the wrong length', true);
      return;
    }
    if (!Bitfield.spareBitsClear(pieceCount, bits)) {
      this.#strike(peer, 'bitfield with spare bits set', true);
      return;
    }
    this.#downloader.onBitfield(peer, new Bitfield(pieceCount, bits));
    this.#fast.offerAllowedFast(peer);
  }

  #onExtended(peer: PeerState, id: number, payload: Uint8Array): void {
    try {
      if (id === 0) {
        const handshake = decodeExtensionHandshake(payload);
        if (handshake.reqq !== undefined && handshake.reqq > 0)
          peer.maxRequests = Math.min(handshake.reqq, 2000);
        if (handshake.v !== undefined) peer.clientName = handshake.v.slice(0, 64);
        const metadataId = handshake.m.get('ut_metadata');
        if (metadataId !== undefined && metadataId > 0) peer.extensionIds.set('ut_metadata', metadataId);
        else if (metadataId === 0) peer.extensionIds.delete('ut_metadata');
        this.#options.pex?.onExtensionHandshake(peer, handshake);
        return;
      }
      if (id === LOCAL_EXTENSION_IDS.ut_metadata) this.#onMetadataMessage(peer, payload);
      else if (id === LOCAL_EXTENSION_IDS.ut_pex) this.#options.pex?.onMessage(peer, payload);
      // Unknown extension ids are ignored, never fatal (BEP 10).
    } catch (error) {
      this.#strike(
        peer,
        error instanceof LodestoneError ? error.message : 'malformed extension message',
        false,
      );
    }
  }

  #onMetadataMessage(peer: PeerState, payload: Uint8Array): void {
    const message = decodeMetadataMessage(payload);
    const remoteId = peer.extensionIds.get('ut_metadata');
    if (message.msgType !== 'request' || remoteId === undefined) return;
    // Not read what we sent before: no answer (it may ask again once it reads).
    if (peer.connection.writableLength > METADATA_SEND_LIMIT) return;
    const info = this.#session.meta.infoBytes;
    const start = message.piece * METADATA_BLOCK_SIZE;
    const reply =
      start < info.length
        ? encodeMetadataMessage({
            msgType: 'data',
            piece: message.piece,
            totalSize: info.length,
            data: info.subarray(start, start + METADATA_BLOCK_SIZE),
          })
        : encodeMetadataMessage({ msgType: 'reject', piece: message.piece });
    peer.connection.send({ type: 'extended', id: remoteId, payload: reply });
  }

  /**
   * Judges a received block against what we asked of this peer, before the downloader sees it.
   * A block we could never have requested (outside the torrent or its piece, or not on our 16 KiB
   * block grid: the picker's block size) or of another length than we asked for is a lie and
   * drops the peer; an unrequested one is tolerated up to what our cancels and its chokes explain.
   */
  #judgeBlock(
    peer: PeerState,
    index: number,
    begin: number,
    length: number,
  ): 'requested' | 'unrequested' | 'violation' {
    const meta = this.#session.meta;
    const pieceSize = index < meta.pieceCount ? pieceLength(meta, index) : 0;
    const onGrid = begin % BLOCK_SIZE === 0 && begin < pieceSize;
    if (onGrid && peer.requests.has(this.#keys.of(index, begin))) {
      // An answer to our request: it must be exactly the block we asked for.
      const expected = requestedBlockLength(meta, index, begin);
      if (expected === length) return 'requested';
      this.#strike(peer, `sent a block of ${length} bytes for a request of ${expected}`, true);
      return 'violation';
    }
    if (!onGrid || begin + length > pieceSize) {
      this.#strike(peer, `sent a block (${index}:${begin}+${length}) we never requested`, true);
      return 'violation';
    }
    peer.unrequestedBlocks++;
    const excused = UNREQUESTED_BLOCK_ALLOWANCE + peer.excusedBlocks + peer.connection.cancelsSent;
    if (peer.unrequestedBlocks > excused) {
      this.#strike(peer, `sent ${peer.unrequestedBlocks} blocks we never requested`, true);
      return 'violation';
    }
    return 'unrequested';
  }

  #strike(peer: PeerState, reason: string, severe: boolean): void {
    peer.protocolStrikes += severe ? MAX_STRIKES : 1;
    if (peer.protocolStrikes >= MAX_STRIKES) peer.connection.close(`protocol violation: ${reason}`);
  }

  /**
   * A peer came, went or changed its interest: decide soon rather than make a new downloader
   * wait for the 10 s round, but after a burst of three at most once a second however many
   * events ask (a peer flapping its interest must not turn into a choking round per message).
   */
  #rechokeSoon(): void {
    const delay = this.#limiter.request();
    if (delay === undefined) return; // a round is already on its way
    clearTimeout(this.#rechokeTimer);
    this.#rechokeTimer = setTimeout(() => {
      this.#rechokeTimer = undefined;
      try {
        if (this.#limiter.due()) this.#rechoke();
      } catch (error) {
        // Never swallowed: reported by the session, or thrown (uncaught) if nobody reports it.
        if (this.#options.onInternalError) this.#options.onInternalError(error);
        else throw error;
      }
    }, delay);
    this.#rechokeTimer.unref();
  }

  #rechoke(): void {
    this.#limiter.ran();
    const peers = [...this.#session.peers.values()].filter(
      (p) => !p.connection.closed && p.connection.remoteHandshake,
    );
    const decision = this.#choker.decide(
      peers.map((p) => ({
        key: p.key,
        interested: p.connection.peerInterested,
        downloadRate: p.connection.download.rate(),
        uploadRate: p.connection.upload.rate(),
        snubbed: p.snubbed,
        connectedAt: p.connectedAt,
        stalled: this.#stalled(p),
      })),
      this.#session.done,
    );
    for (const peer of peers) {
      const unchoke = decision.unchoke.has(peer.key);
      if (unchoke && peer.connection.amChoking) this.#unchoke(peer);
      else if (!unchoke && !peer.connection.amChoking) {
        peer.connection.send({ type: 'choke' });
        this.#uploader.onChoke(peer);
      }
    }
  }

  #unchoke(peer: PeerState): void {
    this.#unchokedAt.set(peer, this.#now());
    peer.connection.send({ type: 'unchoke' });
  }

  /**
   * Unchoked for a whole round and nothing sent to it in the rate window: the slot is wasted
   * (a uTP peer that vanished looks exactly like this until its transport gives up on it).
   */
  #stalled(peer: PeerState): boolean {
    if (peer.connection.amChoking) return false;
    const since = this.#unchokedAt.get(peer);
    return (
      since !== undefined && this.#now() - since >= CHOKE_INTERVAL_MS && peer.connection.upload.rate() === 0
    );
  }
}

/** A peer id's 20 bytes as a map key (latin1 keeps every byte). */
function peerIdKey(id: Uint8Array): string {
  return Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('latin1');
}
