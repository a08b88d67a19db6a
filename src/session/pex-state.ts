/**
 * Peer exchange (BEP 11) policy, pure: what to tell one peer and when (PexOutbox), and which of
 * what one peer tells us to believe (PexInbox). Time comes in as `now` arguments; no sockets.
 * The glue that sends and receives is pex-exchange.ts.
 */
import { formatAddress, type PeerAddress } from '../address.js';
import { normalizePeer } from '../tracker/announce-common.js';
import { PEX_FLAGS, type PexMessage, type PexPeer } from '../wire/ut-pex.js';

/** At most one PEX message a minute to each peer (BEP 11; libtorrent and Transmission alike). */
export const PEX_SEND_INTERVAL_MS = 60_000;
/**
 * A peer's PEX messages closer together than this are ignored. Below the minute honest clients
 * keep, with room for a message delayed behind a slow socket (libtorrent disconnects a peer that
 * sends six within a minute; we only ignore).
 */
export const PEX_MIN_RECEIVE_GAP_MS = 45_000;
/** Most peers added, and dropped, in one message we send (BEP 11 asks for at most 50 added). */
export const PEX_MAX_ADDED = 50;
export const PEX_MAX_DROPPED = 50;
/**
 * Most distinct addresses we take from one peer over its connection: the address book is fair
 * across origins anyway, and this keeps one peer from being more than a small part of it.
 */
export const PEX_MAX_LEARNED_PER_PEER = 200;

/** A connected peer as PEX may advertise it. */
export interface PexCandidate {
  /** The connection's key (`host:port` of the connection). */
  key: string;
  /** Where others can dial it; undefined when unknown (it dialled us and told no listen port). */
  address: PeerAddress | undefined;
  /** `added.f` flags (PEX_FLAGS). */
  flags: number;
}

/** What we know of a connection, to advertise it (see pexCandidate). */
export interface PexConnectionFacts {
  key: string;
  address: PeerAddress;
  direction: 'inbound' | 'outbound';
  /** The listen port it told us in its extension handshake (`p`), if any. */
  listenPort: number | undefined;
  seed: boolean;
  transport: 'tcp' | 'utp';
  encryption: string;
}

/**
 * The address and flags we advertise for a connected peer: the address we dialled (it accepts
 * connections: 0x10), or for a peer that dialled us its IP with the listen port it told us
 * (none: not advertised, as libtorrent does). Seed, uTP and RC4 flags as the connection shows them.
 */
export function pexCandidate(facts: PexConnectionFacts): PexCandidate {
  let flags = 0;
  if (facts.seed) flags |= PEX_FLAGS.seed;
  if (facts.transport === 'utp') flags |= PEX_FLAGS.utp;
  if (facts.encryption === 'rc4') flags |= PEX_FLAGS.encryption;
  if (facts.direction === 'outbound') {
    return { key: facts.key, address: facts.address, flags: flags | PEX_FLAGS.reachable };
  }
  const address =
    facts.listenPort === undefined ? undefined : { host: facts.address.host, port: facts.listenPort };
  return { key: facts.key, address, flags };
}

/**
 * What one peer has been told by us. The first message goes at the first call with something to
 * say (soon after the peer's extension handshake, as libtorrent sends its first on the next
 * second's tick); later ones are the difference since the last, at most one a minute, at most 50
 * added and 50 dropped (the rest waits for the next message). Nothing new: nothing sent.
 */
export class PexOutbox {
  /** The addresses the peer has been told of and not told dropped, by `host:port`. */
  readonly #told = new Map<string, PeerAddress>();
  #lastSentAt: number | undefined;

  /** How many addresses the peer believes we are connected to (bounded by what we added). */
  get told(): number {
    return this.#told.size;
  }

  /**
   * The message to send now, or undefined (not due, or nothing changed). `candidates` are our
   * connected peers; the recipient itself (`recipientKey`) and those without an address are left out.
   */
  next(now: number, candidates: Iterable<PexCandidate>, recipientKey: string): PexMessage | undefined {
    if (this.#lastSentAt !== undefined && now - this.#lastSentAt < PEX_SEND_INTERVAL_MS) return undefined;
    const current = new Map<string, PexCandidate>();
    for (const candidate of candidates) {
      if (candidate.key === recipientKey || candidate.address === undefined) continue;
      current.set(formatAddress(candidate.address), candidate);
    }
    const added: PexPeer[] = [];
    for (const [key, candidate] of current) {
      if (added.length >= PEX_MAX_ADDED) break;
      if (!this.#told.has(key) && candidate.address)
        added.push({ address: candidate.address, flags: candidate.flags });
    }
    const dropped: PeerAddress[] = [];
    for (const [key, address] of this.#told) {
      if (dropped.length >= PEX_MAX_DROPPED) break;
      if (!current.has(key)) dropped.push(address);
    }
    if (added.length === 0 && dropped.length === 0) return undefined;
    for (const peer of added) this.#told.set(formatAddress(peer.address), peer.address);
    for (const address of dropped) this.#told.delete(formatAddress(address));
    this.#lastSentAt = now;
    return { added, dropped };
  }
}

/** Why a received message gave nothing (see PexInbox.accept). */
export type PexRejection = 'throttled';

/**
 * What we take from one peer's PEX messages: a message within 45 s of the last one taken is
 * ignored whole; of an accepted message, the added addresses we would dial (a literal unicast
 * IP, port 1..65535, not ourselves), new from this peer, up to 200 distinct from it in all.
 * `dropped` is not acted on: an address the book knows stays until dialling it fails.
 */
export class PexInbox {
  readonly #learned = new Set<string>();
  #lastAcceptedAt: number | undefined;

  /** Distinct addresses taken from this peer so far (at most PEX_MAX_LEARNED_PER_PEER). */
  get learned(): number {
    return this.#learned.size;
  }

  accept(
    now: number,
    message: PexMessage,
    isSelf: (address: PeerAddress) => boolean,
  ): PeerAddress[] | PexRejection {
    if (this.#lastAcceptedAt !== undefined && now - this.#lastAcceptedAt < PEX_MIN_RECEIVE_GAP_MS)
      return 'throttled';
    this.#lastAcceptedAt = now;
    const out: PeerAddress[] = [];
    for (const { address } of message.added) {
      if (this.#learned.size >= PEX_MAX_LEARNED_PER_PEER) break;
      const usable = normalizePeer(address.host, address.port);
      if (usable === undefined || isSelf(usable)) continue;
      const key = formatAddress(usable);
      if (this.#learned.has(key)) continue;
      this.#learned.add(key);
      out.push(usable);
    }
    return out;
  }
}
