import { EventEmitter } from 'node:events';
import { formatAddress, type PeerAddress, parseAddress } from '../address.js';
import { LodestoneError } from '../errors.js';
import { parseInfoDictionary } from '../metainfo/index.js';
import type { MagnetLink, TorrentMetadata } from '../metainfo/types.js';
import { dialPeer } from '../peer/dial.js';
import { PeerConnection } from '../peer/peer-connection.js';
import { Announcer } from '../tracker/announcer.js';
import type { AnnounceResponse, TrackerClient } from '../tracker/types.js';
import { CLIENT_NAME } from '../version.js';
import {
  decodeExtensionHandshake,
  decodeMetadataMessage,
  encodeExtensionHandshake,
  encodeMetadataMessage,
  LOCAL_EXTENSION_IDS,
  reservedBits,
  supportsExtensionProtocol,
  validateMetadataSize,
} from '../wire/index.js';
import type { Message } from '../wire/types.js';
import { AddressBook, type PeerSource } from './address-book.js';
import { MetadataAssembly } from './metadata-assembly.js';

export interface MetadataFetcherOptions {
  link: MagnetLink;
  peerId: Buffer;
  port: number;
  bindAddress?: string;
  /** @default 30 */
  maxPeers?: number;
  /** A block unanswered this long is asked of another peer. @default 8000 */
  blockTimeoutMs?: number;
  /** Metadata blocks in flight per peer. @default 16 */
  requestsPerPeer?: number;
  useTrackers?: boolean;
  createTrackerClient?: (url: string) => TrackerClient;
  trace?: boolean;
}

export interface MetadataProgress {
  peers: number;
  peersWithMetadata: number;
  receivedBlocks: number;
  totalBlocks: number;
}

export interface MetadataFetcherEvents {
  progress: [MetadataProgress];
  'peer-connected': [{ address: string; direction: 'outbound' }];
  'peer-disconnected': [{ address: string; reason: string }];
  'tracker-response': [{ url: string; response: AnnounceResponse }];
  'tracker-error': [{ url: string; message: string }];
  'metadata-rejected': [{ peers: string[] }];
  wire: [{ peer: string; direction: 'in' | 'out'; message: Message }];
}

interface MetadataPeer {
  connection: PeerConnection;
  remoteId: number | undefined;
  size: number | undefined;
}

/**
 * Fetches a magnet's info dictionary from peers (BEP 9 over BEP 10), checks
 * it against the info-hash and parses it with the same rules as a .torrent
 * file. Peers come from the magnet's trackers and `x.pe` addresses.
 */
export class MetadataFetcher extends EventEmitter<MetadataFetcherEvents> {
  readonly #options: MetadataFetcherOptions;
  readonly #infoHash: Buffer;
  readonly #book = new AddressBook();
  readonly #peers = new Map<string, MetadataPeer>();
  readonly #dialing = new Set<string>();
  /** One assembly per claimed size: peers that disagree on the size cannot mix blocks. */
  readonly #assemblies = new Map<number, MetadataAssembly>();
  #announcer: Announcer | undefined;
  #tick: NodeJS.Timeout | undefined;
  #settle: ((result: TorrentMetadata | Error) => void) | undefined;
  #finished = false;

  constructor(options: MetadataFetcherOptions) {
    super();
    if (!options.link.infoHash) {
      throw new LodestoneError(
        'LODESTONE_ERR_UNSUPPORTED',
        'v2-only magnet links (urn:btmh) are not supported yet',
      );
    }
    this.#options = options;
    this.#infoHash = options.link.infoHash;
  }

  /** Peers heard of so far, so the download can start without waiting for trackers again. */
  get discoveredPeers(): PeerAddress[] {
    return this.#book.addresses();
  }

  /** Resolves with the parsed metadata; rejects when aborted. */
  fetch(signal?: AbortSignal): Promise<TorrentMetadata> {
    const link = this.#options.link;
    const useTrackers = this.#options.useTrackers !== false && link.trackers.length > 0;
    if (!useTrackers && link.peers.length === 0) {
      return Promise.reject(
        new LodestoneError(
          'LODESTONE_ERR_NO_PEER_SOURCE',
          'the magnet link has no trackers (tr) and no peer addresses (x.pe), and DHT is not supported yet: no way to find peers',
        ),
      );
    }
    return new Promise<TorrentMetadata>((resolve, reject) => {
      this.#settle = (result) => {
        this.#close();
        if (result instanceof Error) reject(result);
        else resolve(result);
      };
      signal?.addEventListener(
        'abort',
        () => this.#finish(new LodestoneError('LODESTONE_ERR_ABORTED', 'metadata fetch aborted')),
        {
          once: true,
        },
      );
      for (const address of link.peers) this.addPeer(address, 'magnet');
      if (useTrackers) this.#startAnnouncer(link.trackers.map((url) => [url]));
      this.#tick = setInterval(() => this.#onTick(), 1000);
      this.#tick.unref();
      this.#dialMore();
    });
  }

  #startAnnouncer(tiers: string[][]): void {
    const announcer = new Announcer({
      tiers,
      infoHash: this.#infoHash,
      peerId: this.#options.peerId,
      port: this.#options.port,
      // The size is unknown until we have the metadata; a non-zero `left` marks us a leecher.
      stats: () => ({ uploaded: 0, downloaded: 0, left: 16_384 }),
      ...(this.#options.createTrackerClient ? { createClient: this.#options.createTrackerClient } : {}),
    });
    announcer.on('peers', (peers) => {
      for (const address of peers) this.addPeer(address, 'tracker');
    });
    announcer.on('response', ({ url, response }) => this.emit('tracker-response', { url, response }));
    announcer.on('announce-error', ({ url, error }) =>
      this.emit('tracker-error', { url, message: error instanceof Error ? error.message : String(error) }),
    );
    this.#announcer = announcer;
    announcer.start();
  }

  /** Adds a peer to ask (e.g. found by another means while fetching). */
  addPeer(address: PeerAddress, source: PeerSource = 'manual'): void {
    if (this.#book.add(address, source)) this.#dialMore();
  }

  #dialMore(): void {
    if (this.#finished) return;
    const free = (this.#options.maxPeers ?? 30) - this.#peers.size - this.#dialing.size;
    const skip = new Set([...this.#peers.keys(), ...this.#dialing]);
    for (const address of this.#book.candidates(free, skip)) this.#dial(address);
  }

  #dial(address: PeerAddress): void {
    const key = formatAddress(address);
    this.#dialing.add(key);
    dialPeer(address, this.#options.bindAddress ? { bindAddress: this.#options.bindAddress } : {}).then(
      ({ socket, reads }) => {
        this.#dialing.delete(key);
        if (this.#finished) {
          socket.destroy();
          return;
        }
        this.#attach(
          new PeerConnection({
            socket,
            address,
            direction: 'outbound',
            reads,
            localHandshake: {
              reserved: reservedBits({ extensionProtocol: true }),
              infoHash: this.#infoHash,
              peerId: this.#options.peerId,
            },
          }),
        );
      },
      () => {
        this.#dialing.delete(key);
        this.#book.markDisconnected(key, false);
      },
    );
  }

  #attach(connection: PeerConnection): void {
    const peer: MetadataPeer = { connection, remoteId: undefined, size: undefined };
    this.#peers.set(connection.key, peer);
    this.#book.markConnected(connection.key);
    if (this.#options.trace) {
      connection.traced = true;
      connection.on('wire', (direction, message) =>
        this.emit('wire', { peer: connection.key, direction, message }),
      );
    }
    connection.once('handshake', (remote) => {
      if (!supportsExtensionProtocol(remote.reserved)) {
        connection.close('peer does not support the extension protocol (BEP 10), so it cannot send metadata');
        return;
      }
      this.emit('peer-connected', { address: connection.key, direction: 'outbound' });
      const payload = encodeExtensionHandshake({
        m: new Map([['ut_metadata', LOCAL_EXTENSION_IDS.ut_metadata]]),
        v: CLIENT_NAME,
        ...(this.#options.port > 0 ? { p: this.#options.port } : {}),
        reqq: 250,
      });
      connection.send({ type: 'extended', id: 0, payload });
    });
    connection.on('message', (message) => {
      if (message.type === 'extended') this.#onExtended(peer, message.id, message.payload);
    });
    connection.once('close', (reason) => {
      this.#peers.delete(connection.key);
      this.#book.markDisconnected(connection.key, false);
      if (peer.size !== undefined) this.#assemblies.get(peer.size)?.peerGone(connection.key);
      this.emit('peer-disconnected', { address: connection.key, reason: reason ?? 'closed' });
      this.#dialMore();
    });
  }

  #onExtended(peer: MetadataPeer, id: number, payload: Uint8Array): void {
    const connection = peer.connection;
    try {
      if (id === 0) {
        const handshake = decodeExtensionHandshake(payload);
        const remoteId = handshake.m.get('ut_metadata');
        if (remoteId !== undefined) peer.remoteId = remoteId > 0 ? remoteId : undefined;
        if (handshake.metadataSize !== undefined && peer.size === undefined) {
          // Refused before anything is allocated: a hostile size never costs memory.
          validateMetadataSize(handshake.metadataSize);
          peer.size = handshake.metadataSize;
          if (!this.#assemblies.has(peer.size)) {
            this.#assemblies.set(peer.size, new MetadataAssembly(this.#infoHash, peer.size));
          }
        }
        if (peer.remoteId === undefined) connection.close('peer does not offer metadata (no ut_metadata)');
        else this.#request(peer);
        return;
      }
      if (id !== LOCAL_EXTENSION_IDS.ut_metadata || peer.size === undefined) return;
      const message = decodeMetadataMessage(payload);
      const assembly = this.#assemblies.get(peer.size)!;
      if (message.msgType === 'data') {
        if (
          message.totalSize !== peer.size ||
          !assembly.receive(connection.key, message.piece, message.data)
        ) {
          connection.close('sent a metadata block of the wrong size or number');
          return;
        }
        this.#report();
        this.#check(assembly);
      } else if (message.msgType === 'reject') {
        assembly.reject(connection.key, message.piece);
      } else if (message.msgType === 'request') {
        // We have no metadata to give yet (BEP 9: reject).
        connection.send({
          type: 'extended',
          id: peer.remoteId ?? 0,
          payload: encodeMetadataMessage({ msgType: 'reject', piece: message.piece }),
        });
      }
      if (!this.#finished) this.#request(peer);
    } catch (error) {
      connection.close(error instanceof LodestoneError ? error.message : 'malformed extension message');
    }
  }

  #request(peer: MetadataPeer): void {
    if (this.#finished || peer.size === undefined || peer.remoteId === undefined) return;
    const assembly = this.#assemblies.get(peer.size)!;
    const key = peer.connection.key;
    for (const piece of assembly.nextRequests(
      key,
      this.#options.requestsPerPeer ?? 16,
      this.#options.blockTimeoutMs ?? 8000,
    )) {
      peer.connection.send({
        type: 'extended',
        id: peer.remoteId,
        payload: encodeMetadataMessage({ msgType: 'request', piece }),
      });
    }
  }

  #check(assembly: MetadataAssembly): void {
    const verdict = assembly.verdict();
    if (verdict.kind === 'incomplete') return;
    if (verdict.kind === 'invalid') {
      this.emit('metadata-rejected', { peers: verdict.contributors });
      for (const key of verdict.contributors) {
        if (assembly.isSuspect(key)) {
          const host = parseAddress(key)?.host;
          if (host !== undefined) this.#book.ban(host);
          this.#peers.get(key)?.connection.close('sent metadata that does not match the info-hash');
        }
      }
      for (const peer of this.#peers.values()) this.#request(peer);
      return;
    }
    const link = this.#options.link;
    try {
      const meta = parseInfoDictionary(verdict.info, {
        announceTiers: link.trackers.map((url) => [url]),
        webSeeds: link.webSeeds,
      });
      this.#finish(meta);
    } catch (error) {
      // The hash matched, so these are the real metadata: an unsafe torrent is refused outright.
      this.#finish(
        error instanceof Error ? error : new LodestoneError('LODESTONE_ERR_METADATA', String(error)),
      );
    }
  }

  #report(): void {
    let received = 0;
    let total = 0;
    for (const assembly of this.#assemblies.values()) {
      if (assembly.receivedCount >= received) {
        received = assembly.receivedCount;
        total = assembly.blockCount;
      }
    }
    let withMetadata = 0;
    for (const peer of this.#peers.values())
      if (peer.remoteId !== undefined && peer.size !== undefined) withMetadata++;
    this.emit('progress', {
      peers: this.#peers.size,
      peersWithMetadata: withMetadata,
      receivedBlocks: received,
      totalBlocks: total,
    });
  }

  #onTick(): void {
    for (const peer of this.#peers.values()) this.#request(peer);
    this.#dialMore();
    this.#report();
  }

  #finish(result: TorrentMetadata | Error): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#settle?.(result);
  }

  #close(): void {
    if (this.#tick) clearInterval(this.#tick);
    for (const peer of this.#peers.values()) peer.connection.close('metadata phase over');
    void this.#announcer?.stop();
  }
}
