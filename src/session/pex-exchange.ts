import { isIP } from 'node:net';
import type { PeerAddress } from '../address.js';
import type { ExtensionHandshake } from '../wire/extension.js';
import { LOCAL_EXTENSION_IDS } from '../wire/extension.js';
import { decodePexMessage, encodePexMessage } from '../wire/ut-pex.js';
import type { PeerState } from './peer-state.js';
import { PexInbox, PexOutbox, pexCandidate } from './pex-state.js';

/** What the exchange needs of its session. */
export interface PexHost {
  /** Connected peers by `host:port`. */
  readonly peers: ReadonlyMap<string, PeerState>;
  /** BEP 27: a private torrent never exchanges peers. */
  readonly private: boolean;
  /** Our listen port (0: not listening), to recognise our own address in what peers send. */
  readonly port: number;
  /** Our bind address, if any: also ours. */
  readonly bindAddress?: string | undefined;
  /**
   * Adds an address to the address book with origin `pex:<origin>`, the telling peer's IP (not
   * its connection: a peer that reconnects stays one origin, to which the book's fairness
   * applies); true when it is new and kept.
   */
  learn(address: PeerAddress, origin: string): boolean;
  /** Addresses a peer's PEX message added to the book (only when some did). */
  learned(from: string, addresses: PeerAddress[]): void;
  now(): number;
}

interface PeerPex {
  /** The id the peer wants ut_pex sent with (0 or absent: it does not speak it). */
  remoteId: number;
  /** Its listen port (`p`), which makes a peer that dialled us worth advertising. */
  listenPort: number | undefined;
  readonly outbox: PexOutbox;
  readonly inbox: PexInbox;
}

/** Our addresses as peers report them (`yourip`): a few are enough, and peers decide them. */
const MAX_OWN_HOSTS = 8;

/**
 * BEP 11 for one session: advertises `ut_pex` in our extension handshake (not for a private
 * torrent), sends each peer who speaks it our connected peers every minute (PexOutbox), and
 * puts the addresses peers send us into the address book with origin `pex:<peer>`, throttled
 * and bounded per peer (PexInbox). A private torrent ignores PEX messages altogether.
 * See docs/pex.md.
 */
export class PexExchange {
  readonly #host: PexHost;
  readonly #state = new WeakMap<PeerState, PeerPex>();
  readonly #ownHosts = new Set<string>();
  #learnedTotal = 0;

  constructor(host: PexHost) {
    this.#host = host;
    if (host.bindAddress && isIP(host.bindAddress) !== 0) this.#ownHosts.add(host.bindAddress);
  }

  /** Addresses added to the address book from PEX since the start. */
  get learnedTotal(): number {
    return this.#learnedTotal;
  }

  /** The entries of our handshake's `m` for PEX: none for a private torrent. */
  handshakeEntries(): [string, number][] {
    return this.#host.private ? [] : [['ut_pex', LOCAL_EXTENSION_IDS.ut_pex]];
  }

  /** The peer's extension handshake (a later one may disable ut_pex with id 0). */
  onExtensionHandshake(peer: PeerState, handshake: ExtensionHandshake): void {
    const state = this.#of(peer);
    const id = handshake.m.get('ut_pex');
    if (id !== undefined) state.remoteId = id;
    if (handshake.p !== undefined) state.listenPort = handshake.p;
    if (handshake.yourip !== undefined && this.#ownHosts.size < MAX_OWN_HOSTS) {
      const host = hostText(handshake.yourip);
      if (host !== undefined) this.#ownHosts.add(host);
    }
  }

  /**
   * A ut_pex message from the peer. Throws WireError when it is malformed (the handler strikes
   * the peer lightly); ignored for a private torrent, from a peer that never advertised ut_pex,
   * or within 45 s of its last one.
   */
  onMessage(peer: PeerState, payload: Uint8Array): void {
    if (this.#host.private) return;
    const state = this.#state.get(peer);
    if (state === undefined || state.remoteId === 0) return;
    const message = decodePexMessage(payload);
    const taken = state.inbox.accept(this.#host.now(), message, (address) => this.#isSelf(address));
    if (taken === 'throttled') return;
    const added: PeerAddress[] = [];
    const origin = peer.connection.address.host;
    for (const address of taken) if (this.#host.learn(address, origin)) added.push(address);
    this.#learnedTotal += added.length;
    if (added.length > 0) this.#host.learned(peer.key, added);
  }

  /** Once a second: a message to each peer who speaks ut_pex and is due one. */
  tick(): void {
    if (this.#host.private) return;
    const now = this.#host.now();
    let candidates: ReturnType<typeof pexCandidate>[] | undefined;
    for (const peer of this.#host.peers.values()) {
      const state = this.#state.get(peer);
      if (state === undefined || state.remoteId === 0 || peer.connection.closed) continue;
      candidates ??= this.#candidates();
      const message = state.outbox.next(now, candidates, peer.key);
      if (message === undefined) continue;
      peer.connection.send({ type: 'extended', id: state.remoteId, payload: encodePexMessage(message) });
    }
  }

  #candidates(): ReturnType<typeof pexCandidate>[] {
    const out: ReturnType<typeof pexCandidate>[] = [];
    for (const peer of this.#host.peers.values()) {
      const connection = peer.connection;
      // Only peers whose handshake we have: a dial still under way is not a peer yet.
      if (connection.closed || connection.remoteHandshake === undefined) continue;
      out.push(
        pexCandidate({
          key: peer.key,
          address: connection.address,
          direction: connection.direction,
          listenPort: this.#state.get(peer)?.listenPort,
          seed: peer.isSeed,
          transport: connection.transport,
          encryption: connection.encryption,
        }),
      );
    }
    return out;
  }

  #of(peer: PeerState): PeerPex {
    let state = this.#state.get(peer);
    if (state === undefined) {
      state = { remoteId: 0, listenPort: undefined, outbox: new PexOutbox(), inbox: new PexInbox() };
      this.#state.set(peer, state);
    }
    return state;
  }

  /** Our own listen address as a peer may tell it back to us (libtorrent lists us to ourselves). */
  #isSelf(address: PeerAddress): boolean {
    return this.#host.port > 0 && address.port === this.#host.port && this.#ownHosts.has(address.host);
  }
}

function hostText(bytes: Uint8Array): string | undefined {
  if (bytes.length === 4) return bytes.join('.');
  if (bytes.length !== 16) return undefined;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}
