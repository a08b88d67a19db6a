import type { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { formatAddress, type PeerAddress, parseAddress } from '../address.js';
import { LodestoneError } from '../errors.js';
import type { TorrentMetadata } from '../metainfo/types.js';
import type { ConnectionEncryption } from '../net/mse/policy.js';
import type { PeerTransport } from '../peer/dial-transport.js';
import { PeerConnection } from '../peer/peer-connection.js';
import { DialBudget } from '../policy/dial-budget.js';
import type { Handshake } from '../wire/types.js';
import type { AddressBook } from './address-book.js';
import type { TorrentBandwidth } from './bandwidth-limits.js';
import { PeerDialer } from './peer-dialer.js';
import { classifyDialError } from './peer-failure.js';
import { closeSurplus, rotateUselessPeers, yieldLeastUseful } from './peer-slots.js';
import { PeerState } from './peer-state.js';
import type { SessionPeerHandler } from './session-peer-handler.js';
import type { TorrentSessionEvents, TorrentSessionOptions } from './session-types.js';
import type { TorrentFaults } from './torrent-faults.js';

/** What a torrent's peer connections need of their session. */
export interface TorrentConnectionsContext {
  meta: TorrentMetadata;
  options: TorrentSessionOptions;
  /** The session's connected peers by `host:port` (this class adds and removes them). */
  peers: Map<string, PeerState>;
  book: AddressBook;
  localHandshake: Handshake;
  bandwidth: TorrentBandwidth;
  faults: TorrentFaults;
  events: EventEmitter<TorrentSessionEvents>;
  /** The session's peer handler, once `start()` made it. */
  handler: () => SessionPeerHandler | undefined;
  /** Peers are wanted now: started, not stopped, downloading or seeding. */
  wantsPeers: () => boolean;
  stopped: () => boolean;
}

/**
 * A torrent's connections: dialling the address book's candidates, accepting incoming peers,
 * attaching both to the session's peer table and handler, and the slots they take (the
 * per-torrent limit under the client's caps, rotation, yielding a slot, bans).
 */
export class TorrentConnections {
  readonly #context: TorrentConnectionsContext;
  readonly #peers: Map<string, PeerState>;
  readonly #dialer: PeerDialer;
  /** This torrent's own connection cap (see setLimit); infinite = the client's alone. */
  #limit = Number.POSITIVE_INFINITY;

  constructor(context: TorrentConnectionsContext) {
    this.#context = context;
    this.#peers = context.peers;
    const { options, meta } = context;
    const limit = () => this.maxPeers;
    this.#dialer = new PeerDialer(
      {
        peers: this.#peers,
        get maxPeers() {
          return limit();
        },
        wantsPeers: context.wantsPeers,
        stopped: context.stopped,
        adopt: (connection) => {
          this.#attach(connection);
          connection.once('handshake', (remote) => {
            const peer = this.#peers.get(connection.key);
            if (peer) context.handler()?.onHandshake(peer, remote);
          });
        },
        internalError: (error, peer) => context.faults.internalError(error, peer),
        dialFailed: (address, error) => {
          const { failure, message } = classifyDialError(error);
          context.events.emit('peer-dial-failed', { address, reason: failure, message });
        },
      },
      {
        book: context.book,
        budget: options.dialBudget ?? new DialBudget(Date.now),
        localHandshake: context.localHandshake,
        pieceCount: meta.pieceCount,
        encryption: options.encryption ?? 'prefer',
        ...(options.utp ? { utp: options.utp } : {}),
        ...(options.bindAddress ? { bindAddress: options.bindAddress } : {}),
        ...(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
        ...(options.handshakeTimeoutMs !== undefined
          ? { handshakeTimeoutMs: options.handshakeTimeoutMs }
          : {}),
      },
    );
  }

  /** Its own limit (else the per-torrent cap); with the client's budget, what the global cap allows now. */
  get maxPeers(): number {
    const budget = this.#context.options.peerBudget;
    const own = Number.isFinite(this.#limit) ? this.#limit : undefined;
    if (budget) return budget.ceiling(this.#peers.size, own);
    return own ?? this.#context.options.maxPeers ?? 50;
  }

  /** A new address waits: a dial round soon. */
  soon(): void {
    this.#dialer.soon();
  }

  /** Dials candidates up to the free slots. */
  more(): void {
    this.#dialer.more();
  }

  /** Stops dialling (dials in flight are abandoned). */
  stopDialing(): void {
    this.#dialer.stop();
  }

  /** Sets this torrent's own cap; lowered below the peers connected now, the least useful are closed. */
  setLimit(limit: number | undefined): void {
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1))
      throw new LodestoneError('LODESTONE_ERR_USAGE', `a peer limit must be an integer ≥ 1, not ${limit}`);
    this.#limit = limit ?? Number.POSITIVE_INFINITY;
    closeSurplus(this.#peers, this.#limit);
  }

  /** Whether more peers would be useful and addresses wait (the client's fair-share rule). */
  get wantsMore(): boolean {
    return (
      this.#context.wantsPeers() &&
      this.#peers.size < this.#limit &&
      this.#context.book.size > this.#peers.size + this.#dialer.dialing.size
    );
  }

  /** Closes the least useful peer to give its slot to a starved torrent (client budget). */
  yieldOne(): boolean {
    return yieldLeastUseful(this.#peers);
  }

  /** Full, with untried addresses waiting: closes useless peers to make room (see peersToRotate). */
  rotate(): void {
    rotateUselessPeers(this.#peers, this.maxPeers, this.#context.book, this.#dialer.dialing, Date.now());
  }

  /** Bans a peer's host: its connection closes and the book never gives it again. */
  ban(key: string, reason: string): void {
    const peer = this.#peers.get(key);
    const host = peer?.connection.address.host ?? parseAddress(key)?.host;
    if (host === undefined) return;
    const book = this.#context.book;
    // Already banned and gone (several pieces can convict the same liar): nothing new to say.
    if (!peer && book.isBanned(host)) return;
    book.ban(host);
    this.#context.events.emit('peer-banned', { address: key, reason });
    peer?.connection.close(`banned: ${reason}`);
  }

  /** An incoming connection whose handshake named this torrent (from the listener). */
  accept(
    socket: Duplex,
    remote: Handshake,
    leftover: Uint8Array,
    address: PeerAddress,
    encryption: ConnectionEncryption,
    transport: PeerTransport,
  ): void {
    const key = formatAddress(address);
    const handler = this.#context.handler();
    if (
      !handler ||
      this.#context.stopped() ||
      this.#peers.size >= this.maxPeers ||
      this.#context.book.isBanned(address.host)
    ) {
      socket.destroy();
      return;
    }
    if (this.#peers.has(key)) {
      socket.destroy();
      return;
    }
    const connection = new PeerConnection({
      socket,
      address,
      direction: 'inbound',
      localHandshake: this.#context.localHandshake,
      remoteHandshake: remote,
      leftover,
      pieceCount: this.#context.meta.pieceCount,
      encryption,
      transport,
    });
    this.#context.book.add(address, 'incoming');
    this.#attach(connection);
    handler.onHandshake(this.#peers.get(key)!, remote);
  }

  #attach(connection: PeerConnection): void {
    const { options, book, events, faults } = this.#context;
    const peer = new PeerState(connection, this.#context.meta.pieceCount);
    peer.maxRequests = 250;
    connection.on('internal-error', (error) => faults.internalError(error, connection.key));
    this.#peers.set(connection.key, peer);
    this.#context.bandwidth.attach(connection);
    options.peerBudget?.opened();
    book.markConnected(connection.key);
    if (options.trace) {
      connection.traced = true;
      connection.on('wire', (direction, message) =>
        events.emit('wire', { peer: connection.key, direction, message }),
      );
    }
    connection.on('message', (message) => this.#context.handler()?.onMessage(peer, message));
    connection.once('close', (reason) => {
      this.#peers.delete(connection.key);
      options.peerBudget?.closed();
      this.#context.handler()?.onClose(peer);
      const useful = peer.connection.download.total > 0 || peer.connection.upload.total > 0;
      book.markDisconnected(connection.key, useful);
      events.emit('peer-disconnected', { address: connection.key, reason: reason ?? 'closed' });
      this.#dialer.more();
    });
  }
}
