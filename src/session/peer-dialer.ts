import { formatAddress, type PeerAddress } from '../address.js';
import type { EncryptionPolicy } from '../net/mse/policy.js';
import { connectPeer } from '../peer/connect-peer.js';
import type { UtpDialer } from '../peer/dial-transport.js';
import { PeerConnection } from '../peer/peer-connection.js';
import { DIAL_PRESSURE_WAITING, type DialBudget, dialTimeouts } from '../policy/dial-budget.js';
import type { Handshake } from '../wire/types.js';
import type { AddressBook } from './address-book.js';
import { DialMemory, rememberWay } from './dial-memory.js';

/** What the dialler needs of its session. */
export interface PeerDialerHost {
  /** Connected peers by `host:port`. */
  readonly peers: ReadonlyMap<string, unknown>;
  readonly maxPeers: number;
  /** Dialling is wanted now (started, not stopped, not finished unless seeding). */
  wantsPeers(): boolean;
  stopped(): boolean;
  /** A dialled connection, ready for its handshake: the session attaches it. */
  adopt(connection: PeerConnection): void;
  /** A programming error caught at a boundary. */
  internalError(error: unknown, peer?: string): void;
  /** A dial failed (refused, timed out, the encryption handshake failed): for counters. */
  dialFailed?(address: string, error: unknown): void;
}

export interface PeerDialerOptions {
  book: AddressBook;
  budget: DialBudget;
  localHandshake: Handshake;
  pieceCount: number;
  encryption: EncryptionPolicy;
  bindAddress?: string;
  /** @default 10000 */
  connectTimeoutMs?: number;
  /** @default 10000 */
  handshakeTimeoutMs?: number;
  /** Dials over uTP first (TCP too after a delay); without it, TCP only. */
  utp?: UtpDialer | undefined;
}

/** A dial's timeouts: connect, the peer's handshake, and uTP's head start before TCP. */
export type PeerDialTimeouts = { connectMs: number; handshakeMs: number; tcpDelayMs: number };

/** uTP's head start before TCP is dialled too; shorter under dial pressure, so junk costs less. */
const TCP_DELAY_MS = 1000;
const PRESSURE_TCP_DELAY_MS = 250;

/**
 * uTP's head start before TCP while no peer is connected: RFC 8305's lowest recommended
 * connection attempt delay (its default is 250 ms). Nothing moves until a first peer connects, and
 * an address from a tracker or the DHT says nothing of uTP, so each TCP-only peer (aria2, and
 * Transmission or libtorrent with uTP off) would cost the whole head start before anything
 * starts. A uTP peer still wins when it answers within the head start plus TCP's round trip.
 */
export const FIRST_PEER_TCP_DELAY_MS = 100;

/**
 * The timeouts of a dial while `waiting` untried addresses wait and `connected` peers are
 * connected: the connect and handshake timeouts of {@link dialTimeouts} (both default 10 s) and
 * uTP's head start (1 s; 250 ms under pressure, 100 ms while nothing is connected). The metadata phase
 * dials with the same numbers as the download.
 */
export function peerDialTimeouts(
  base: { connectMs?: number | undefined; handshakeMs?: number | undefined },
  waiting: number,
  connected = 1,
): PeerDialTimeouts {
  const tcpDelayMs =
    connected === 0
      ? FIRST_PEER_TCP_DELAY_MS
      : waiting >= DIAL_PRESSURE_WAITING
        ? PRESSURE_TCP_DELAY_MS
        : TCP_DELAY_MS;
  return {
    ...dialTimeouts(
      { connectMs: base.connectMs ?? 10_000, handshakeMs: base.handshakeMs ?? 10_000 },
      waiting,
    ),
    tcpDelayMs,
  };
}

/**
 * Dials the address book's candidates for one session: paced by the DialBudget (half-open bound
 * and attempt rate, apart from the connection cap), with the encryption policy's way in
 * remembered per address. The session owns the connections once they are adopted.
 */
export class PeerDialer {
  readonly #host: PeerDialerHost;
  readonly #options: PeerDialerOptions;
  readonly #dialing = new Set<string>();
  /** A dial round is queued (setImmediate) or waits for the bucket to refill (timer). */
  #queued = false;
  #timer: NodeJS.Timeout | undefined;
  /** Per address, the way in (MSE or plaintext) that worked last and whether TCP won the race. */
  readonly #memory: DialMemory;

  constructor(host: PeerDialerHost, options: PeerDialerOptions) {
    this.#host = host;
    this.#options = options;
    this.#memory = new DialMemory();
  }

  /** Addresses being dialled now. */
  get dialing(): ReadonlySet<string> {
    return this.#dialing;
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** A dial round soon, once for however many addresses arrive or dials end in this turn. */
  soon(): void {
    if (this.#queued || this.#host.stopped()) return;
    this.#queued = true;
    setImmediate(
      this.#guard(() => {
        this.#queued = false;
        this.more();
      }),
    );
  }

  /**
   * Starts the dials the budget allows (see DialBudget): while a connection slot is free, up to
   * the half-open bound and the attempt rate, the address book's candidates in its fair order.
   * When the rate is what stops it, it comes back as the bucket refills.
   */
  more(): void {
    if (!this.#host.wantsPeers()) return;
    const { budget, book } = this.#options;
    const state = {
      connected: this.#host.peers.size,
      dialing: this.#dialing.size,
      maxPeers: this.#host.maxPeers,
    };
    const allowance = budget.allowance(state);
    if (allowance <= 0) {
      if (state.connected < state.maxPeers && budget.nextTokenInMs() > 0) this.#later();
      return;
    }
    const skip = new Set([...this.#host.peers.keys(), ...this.#dialing]);
    const timeouts = this.#timeouts(skip);
    const addresses = book.candidates(allowance, skip);
    for (const address of addresses) this.#dial(address, timeouts);
    // Took all it could: more may be waiting once the bucket refills.
    if (addresses.length === allowance) this.#later();
  }

  #later(): void {
    if (this.#timer || this.#host.stopped()) return;
    this.#timer = setTimeout(
      this.#guard(() => {
        this.#timer = undefined;
        this.more();
      }),
      Math.max(20, this.#options.budget.nextTokenInMs()),
    );
    this.#timer.unref();
  }

  /** Connect and handshake timeouts, shorter while many untried addresses wait. */
  #timeouts(skip: ReadonlySet<string>): PeerDialTimeouts {
    return peerDialTimeouts(
      { connectMs: this.#options.connectTimeoutMs, handshakeMs: this.#options.handshakeTimeoutMs },
      this.#options.book.untried(skip),
      this.#host.peers.size,
    );
  }

  #dial(address: PeerAddress, timeouts: PeerDialTimeouts): void {
    const { book, budget } = this.#options;
    const key = formatAddress(address);
    this.#dialing.add(key);
    budget.started(1);
    connectPeer(address, {
      timeoutMs: timeouts.connectMs,
      ...(this.#options.bindAddress ? { bindAddress: this.#options.bindAddress } : {}),
      localHandshake: this.#options.localHandshake,
      encryption: this.#options.encryption,
      remembered: this.#memory.way(key),
      handshakeTimeoutMs: timeouts.handshakeMs,
      utp: this.#options.utp,
      tcpDelayMs: timeouts.tcpDelayMs,
      rememberedTransport: this.#memory.transport(key),
    })
      .then(
        ({ socket, reads, handshakeSent, encryption, way, transport }) => {
          this.#dialing.delete(key);
          budget.ended();
          this.#memory.connected(key, transport, this.#options.utp !== undefined);
          if (this.#host.stopped() || this.#host.peers.has(key)) {
            socket.destroy();
            return;
          }
          if (this.#host.peers.size >= this.#host.maxPeers) {
            // The slots filled while it was connecting: never more than maxPeers. Not its fault:
            // it waits as untried (and so can make peer rotation close a useless peer for it).
            socket.destroy();
            book.markDeferred(key);
            return;
          }
          const connection = new PeerConnection({
            socket,
            address,
            direction: 'outbound',
            localHandshake: this.#options.localHandshake,
            pieceCount: this.#options.pieceCount,
            reads,
            handshakeSent,
            encryption,
            transport,
            handshakeTimeoutMs: timeouts.handshakeMs,
          });
          this.#host.adopt(connection);
          this.#rememberWay(connection, way);
        },
        (error: unknown) => {
          // Refused or timed out: a failure at once (back-off, first to be evicted), next please.
          this.#dialing.delete(key);
          budget.ended();
          book.markDisconnected(key, false);
          this.#host.dialFailed?.(key, error);
          this.soon();
        },
      )
      // A throw while setting the connection up is ours, and must not become an unhandled rejection.
      .catch((error: unknown) => this.#host.internalError(error, key));
  }

  /** See {@link rememberWay}: under `allow`, a plaintext refusal is dialled again at once, encrypted. */
  #rememberWay(connection: PeerConnection, way: 'mse' | 'plain'): void {
    rememberWay(this.#memory, connection, way, this.#options.encryption, () => {
      if (
        !this.#host.stopped() &&
        !this.#host.peers.has(connection.key) &&
        !this.#dialing.has(connection.key)
      )
        this.#dial(connection.address, this.#timeouts(new Set(this.#dialing)));
    });
  }

  #guard(fn: () => void): () => void {
    return () => {
      try {
        fn();
      } catch (error) {
        this.#host.internalError(error);
      }
    };
  }
}
