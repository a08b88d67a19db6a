import { LodestoneError } from '../errors.js';
import type { PeerConnection } from '../peer/peer-connection.js';
import { CLIENT_NAME } from '../version.js';
import {
  decodeExtensionHandshake,
  decodeMetadataMessage,
  encodeExtensionHandshake,
  encodeMetadataMessage,
  LOCAL_EXTENSION_IDS,
  validateMetadataSize,
} from '../wire/index.js';
import type { MetadataAssembly } from './metadata-assembly.js';
import type { MetadataPeerOutcome } from './metadata-attempt.js';
import { MetadataCandidates } from './metadata-candidates.js';
import type { MetadataPeer, MetadataProgress } from './metadata-fetcher-types.js';

/** What the exchange needs of its fetcher. */
export interface MetadataExchangeHost {
  /** Our listening port, told in the extension handshake (0: not told). */
  port: number;
  /** Metadata blocks in flight per peer. */
  requestsPerPeer: number;
  now: () => number;
  /** The fetch is over: nothing more is asked. */
  finished: () => boolean;
  /** Progress: a peer offered the metadata for the first time. */
  offered: () => void;
  /** A block we asked for was stored in `assembly` (now maybe complete). */
  stored: (assembly: MetadataAssembly) => void;
  /** Ends a peer's connection, keeping `outcome` for the summary. */
  drop: (peer: MetadataPeer, outcome: MetadataPeerOutcome, reason: string) => void;
}

/**
 * The per-peer side of fetching a magnet's metadata (BEP 9 over BEP 10): our extension
 * handshake, the peer's (its ut_metadata id and metadata size), requests kept in flight, data
 * and rejects, and requests of ours refused. The assemblies are bounded per candidate size.
 */
export class MetadataExchange {
  /** Connected peers by `host:port`. */
  readonly peers = new Map<string, MetadataPeer>();
  /** One assembly per candidate size (at most two, bounded in bytes); other sizes wait. */
  readonly candidates: MetadataCandidates;
  readonly #host: MetadataExchangeHost;
  /** Addresses that offered the metadata at least once (a new one counts as progress). */
  readonly #offered = new Set<string>();

  constructor(infoHash: Buffer, host: MetadataExchangeHost) {
    this.#host = host;
    this.candidates = new MetadataCandidates(infoHash, host.now);
  }

  /** Adds a connected peer (its BitTorrent handshake still to come). */
  add(connection: PeerConnection): MetadataPeer {
    const peer: MetadataPeer = {
      connection,
      remoteId: undefined,
      size: undefined,
      handshakeAt: undefined,
      extended: false,
      outcome: undefined,
    };
    this.peers.set(connection.key, peer);
    connection.on('message', (message) => {
      if (message.type === 'extended') this.#onExtended(peer, message.id, message.payload);
    });
    return peer;
  }

  /** Sends our extension handshake (the peer's BitTorrent handshake offered BEP 10). */
  greet(peer: MetadataPeer): void {
    const payload = encodeExtensionHandshake({
      m: new Map([['ut_metadata', LOCAL_EXTENSION_IDS.ut_metadata]]),
      v: CLIENT_NAME,
      ...(this.#host.port > 0 ? { p: this.#host.port } : {}),
      reqq: 250,
    });
    peer.connection.send({ type: 'extended', id: 0, payload });
  }

  /** Forgets a closed peer; the blocks it had in flight are asked of the others. */
  remove(peer: MetadataPeer): void {
    const key = peer.connection.key;
    this.peers.delete(key);
    if (peer.size !== undefined && this.candidates.release(key, peer.size)) this.requestAll();
  }

  /** Fills every peer's requests in flight. */
  requestAll(): void {
    for (const peer of this.peers.values()) this.#request(peer);
  }

  /** Peers, peers offering the metadata, and the blocks of the most advanced assembly. */
  progress(): MetadataProgress {
    let received = 0;
    let total = 0;
    for (const assembly of this.candidates.assemblies()) {
      if (assembly.receivedCount >= received) {
        received = assembly.receivedCount;
        total = assembly.blockCount;
      }
    }
    let withMetadata = 0;
    for (const peer of this.peers.values())
      if (peer.remoteId !== undefined && peer.size !== undefined) withMetadata++;
    return {
      peers: this.peers.size,
      peersWithMetadata: withMetadata,
      receivedBlocks: received,
      totalBlocks: total,
    };
  }

  #onExtended(peer: MetadataPeer, id: number, payload: Uint8Array): void {
    const connection = peer.connection;
    try {
      if (id === 0) {
        if (peer.extended) return; // BEP 10 allows a repeat; the first one decided everything we use
        peer.extended = true;
        const handshake = decodeExtensionHandshake(payload);
        const remoteId = handshake.m.get('ut_metadata');
        if (remoteId !== undefined) peer.remoteId = remoteId > 0 ? remoteId : undefined;
        if (handshake.metadataSize !== undefined && peer.size === undefined) {
          // Refused before anything is allocated: a hostile size never costs memory.
          validateMetadataSize(handshake.metadataSize);
          peer.size = handshake.metadataSize;
        }
        if (peer.remoteId === undefined) {
          this.#host.drop(peer, 'no-metadata', 'peer does not offer metadata (no ut_metadata)');
        } else if (peer.size === undefined) {
          this.#host.drop(peer, 'no-metadata', 'peer has no metadata to give (no metadata_size)');
        } else {
          if (!this.#offered.has(connection.key)) {
            this.#offered.add(connection.key);
            this.#host.offered();
          }
          // Nothing is allocated here: a size gets an assembly only when it becomes a candidate.
          if (this.candidates.claim(connection.key, peer.size)) this.requestAll();
          else this.#request(peer);
        }
        return;
      }
      if (id !== LOCAL_EXTENSION_IDS.ut_metadata || peer.size === undefined) return;
      const message = decodeMetadataMessage(payload);
      const assembly = this.candidates.assembly(peer.size);
      if (message.msgType === 'data') {
        // Only a block we asked this peer for is stored; anything else is a protocol
        // violation and the peer is dropped (libtorrent ignores such blocks instead).
        const result =
          message.totalSize !== peer.size
            ? 'invalid'
            : this.candidates.receive(connection.key, peer.size, message.piece, message.data);
        if (result !== 'stored') {
          connection.close(
            result === 'unrequested'
              ? 'sent a metadata block we did not request'
              : 'sent a metadata block of the wrong size or number',
          );
          return;
        }
        this.#host.stored(assembly!);
      } else if (message.msgType === 'reject') {
        if (!assembly) return; // nothing asked of a waiting size
        assembly.reject(connection.key, message.piece);
        if (!assembly.canServe(connection.key)) {
          this.#host.drop(peer, 'no-metadata', 'peer rejected our metadata requests (it has no metadata)');
          return;
        }
      } else if (message.msgType === 'request') {
        // We have no metadata to give yet (BEP 9: reject).
        connection.send({
          type: 'extended',
          id: peer.remoteId ?? 0,
          payload: encodeMetadataMessage({ msgType: 'reject', piece: message.piece }),
        });
      }
      if (!this.#host.finished()) this.#request(peer);
    } catch (error) {
      connection.close(error instanceof LodestoneError ? error.message : 'malformed extension message');
    }
  }

  #request(peer: MetadataPeer): void {
    if (this.#host.finished() || peer.size === undefined || peer.remoteId === undefined) return;
    // Nothing while the peer's size waits for a candidate slot.
    for (const piece of this.candidates.nextRequests(
      peer.connection.key,
      peer.size,
      this.#host.requestsPerPeer,
    )) {
      peer.connection.send({
        type: 'extended',
        id: peer.remoteId,
        payload: encodeMetadataMessage({ msgType: 'request', piece }),
      });
    }
  }
}
