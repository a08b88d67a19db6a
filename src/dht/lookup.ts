/**
 * The iterative Kademlia lookup (BEP 5 `find_node` / `get_peers`) as a state machine, with no
 * sockets and no clock: the node feeds it replies, timeouts and "slow" marks, and asks it whom to
 * query next.
 *
 * - A candidate that timed out is asked again (up to `maxAttempts`) in its own α slots, beside the
 *   never-asked ones: a dead node among the closest does not hold up farther live nodes.
 * - α = 3 queries in flight; a query marked slow (no reply after the short timeout) stops
 *   counting against α, so one more slot opens (libtorrent's short timeout); it still counts if
 *   it answers later.
 * - Closest-k termination: done when the k closest candidates not known to have failed have all
 *   answered (or nothing is left to ask).
 * - Bounded work: the candidate list keeps the closest `maxCandidates`, at most
 *   `maxNodesPerReply` nodes of one reply are read, one candidate per IP address (a node that
 *   claims every id, or a reply full of one host, costs one slot), peers are capped.
 */
import { addressBytes, formatAddress, isIpv4Mapped, type PeerAddress } from '../address.js';
import type { NodeContact } from './messages.js';
import { ID_BYTES, type NodeId, sameId } from './node-id.js';

export interface LookupOptions {
  target: NodeId;
  /** Our own id, never a candidate. */
  ownId?: NodeId;
  /** Closest nodes that must answer. @default 8 */
  k?: number;
  /** Queries in flight (not counting slow ones). @default 3 */
  alpha?: number;
  /** Candidates kept (the closest). @default 100 */
  maxCandidates?: number;
  /** Nodes read from one reply. @default 64 */
  maxNodesPerReply?: number;
  /** Distinct peers collected. @default 2000 */
  maxPeers?: number;
  /**
   * Times a candidate is asked before it counts as failed: a timeout puts it back in line (it is
   * asked again only while it is still among the closest), so one lost datagram does not drop one
   * of the closest nodes from the result. @default 4
   */
  maxAttempts?: number;
  /**
   * BEP 32: only contacts of this address family are candidates (a node of the other family in a
   * reply is ignored, as is an IPv4-mapped address in `nodes6`). @default any family
   */
  family?: 4 | 6;
}

type CandidateState = 'fresh' | 'pending' | 'responded' | 'failed';

interface Candidate {
  contact: NodeContact;
  distance: Uint8Array;
  state: CandidateState;
  /** Hops from the seeds: 0 for a seed, parent's depth + 1 for a node learned from a reply. */
  depth: number;
  slow: boolean;
  attempts: number;
  token: Uint8Array | undefined;
}

/** A node that answered, with the write token it gave (get_peers). */
export interface RespondedNode extends NodeContact {
  token?: Uint8Array;
}

/** What a lookup found. */
export interface LookupResult {
  /** Peers (`values`) collected, each once. */
  peers: PeerAddress[];
  /** The closest nodes (up to k) that answered, nearest first, with their tokens. */
  nodes: RespondedNode[];
  /** Hops: the deepest answering node's depth + 1. */
  rounds: number;
  /** Queries sent, answered, and failed (timeouts and error replies). */
  queries: number;
  responses: number;
  failures: number;
}

/** A reply to a lookup query, as far as the lookup cares. */
export interface LookupReply {
  nodes?: NodeContact[];
  values?: PeerAddress[];
  token?: Uint8Array;
}

/**
 * The family a DHT contact's host belongs to: 4 for a dotted IPv4 literal, 6 for an IPv6 one;
 * undefined for an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, an IPv4 node in disguise that BEP 32
 * `nodes6` must not carry) and for anything that is not a literal address.
 */
export function contactFamily(host: string): 4 | 6 | undefined {
  const bytes = addressBytes(host);
  if (bytes === undefined) return undefined;
  if (bytes.length === 4) return 4;
  return isIpv4Mapped(bytes) ? undefined : 6;
}

function distanceTo(id: NodeId, target: NodeId): Uint8Array {
  const out = new Uint8Array(ID_BYTES);
  for (let i = 0; i < ID_BYTES; i++) out[i] = id[i]! ^ target[i]!;
  return out;
}

export class Lookup {
  readonly target: NodeId;
  readonly #ownId: NodeId | undefined;
  readonly #k: number;
  readonly #alpha: number;
  readonly #maxCandidates: number;
  readonly #maxNodesPerReply: number;
  readonly #maxPeers: number;
  readonly #maxAttempts: number;
  readonly #family: 4 | 6 | undefined;
  /** Sorted by distance, nearest first. */
  #candidates: Candidate[] = [];
  /** host → candidate, for the one-per-IP rule (includes pending ones pruned from the list). */
  readonly #byHost = new Map<string, Candidate>();
  readonly #inFlight = new Map<string, Candidate>();
  readonly #peers = new Map<string, PeerAddress>();
  #queries = 0;
  #responses = 0;
  #failures = 0;

  constructor(options: LookupOptions) {
    this.target = options.target;
    this.#ownId = options.ownId;
    this.#k = options.k ?? 8;
    this.#alpha = options.alpha ?? 3;
    this.#maxCandidates = Math.max(options.maxCandidates ?? 100, this.#k);
    this.#maxNodesPerReply = options.maxNodesPerReply ?? 64;
    this.#maxPeers = options.maxPeers ?? 2000;
    this.#maxAttempts = Math.max(1, options.maxAttempts ?? 4);
    this.#family = options.family;
  }

  /** Adds starting nodes (from the routing table, or bootstrap replies). */
  seed(contacts: NodeContact[]): void {
    for (const contact of contacts) this.#add(contact, 0);
    this.#prune();
  }

  /**
   * Adds nodes learned elsewhere at `depth` (BEP 32: the sibling family's lookup heard of them in
   * a reply), read as a reply's nodes are: at most `maxNodesPerReply`, only of this family.
   */
  offer(contacts: NodeContact[], depth: number): void {
    for (let i = 0; i < contacts.length && i < this.#maxNodesPerReply; i++) this.#add(contacts[i]!, depth);
    this.#prune();
  }

  /** The address family this lookup asks (undefined: any). */
  get family(): 4 | 6 | undefined {
    return this.#family;
  }

  /** The depth of the in-flight candidate at `contact` (undefined when it is not in flight). */
  depthOf(contact: { host: string; port: number }): number | undefined {
    const candidate = this.#inFlight.get(contact.host);
    return candidate && candidate.contact.port === contact.port ? candidate.depth : undefined;
  }

  /** Candidates currently kept. */
  get candidateCount(): number {
    return this.#candidates.length;
  }

  /** Queries in flight (slow ones included). */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /**
   * The nodes to query now, marked as in flight; call after every input. Never-asked candidates
   * go first (α of them in flight); a candidate that timed out is asked again beside them, in a
   * second set of α slots, so a dead node among the closest neither holds up a live node never
   * asked nor waits for all of them. Only candidates before the k-th that answered are asked:
   * beyond it nobody is needed.
   */
  next(): NodeContact[] {
    const out: NodeContact[] = [];
    // In flight and not slow: [never-asked, retries].
    const busy = [0, 0];
    for (const candidate of this.#inFlight.values())
      if (!candidate.slow) busy[candidate.attempts > 1 ? 1 : 0]!++;
    for (const pass of [0, 1]) {
      const retry = pass === 1;
      let responded = 0;
      for (const candidate of this.#candidates) {
        if (busy[pass]! >= this.#alpha || responded >= this.#k) break;
        if (candidate.state === 'responded') responded++;
        else if (candidate.state === 'fresh' && candidate.attempts > 0 === retry) {
          candidate.state = 'pending';
          candidate.slow = false;
          candidate.attempts++;
          this.#inFlight.set(candidate.contact.host, candidate);
          this.#queries++;
          busy[pass]!++;
          out.push(candidate.contact);
        }
      }
    }
    return out;
  }

  /** True when the k closest live candidates have answered, or there is nobody left to ask. */
  get done(): boolean {
    let seen = 0;
    let allResponded = true;
    for (const candidate of this.#candidates) {
      if (candidate.state === 'failed') continue;
      if (candidate.state !== 'responded') {
        allResponded = false;
        // A fresh candidate inside the closest k can still be asked.
        break;
      }
      if (++seen >= this.#k) break;
    }
    if (allResponded) return this.#inFlight.size === 0 || seen >= this.#k;
    if (this.#inFlight.size > 0) return false;
    // Nothing in flight: done only if there is no fresh candidate `next` would pick.
    return !this.#candidates.some((candidate) => candidate.state === 'fresh');
  }

  /** `contact` answered. Returns the peers in the reply not seen before. */
  responded(contact: { host: string; port: number }, reply: LookupReply): PeerAddress[] {
    const candidate = this.#inFlight.get(contact.host);
    if (!candidate || candidate.contact.port !== contact.port) return [];
    this.#inFlight.delete(contact.host);
    candidate.state = 'responded';
    candidate.token = reply.token;
    this.#responses++;
    const nodes = reply.nodes ?? [];
    for (let i = 0; i < nodes.length && i < this.#maxNodesPerReply; i++)
      this.#add(nodes[i]!, candidate.depth + 1);
    this.#prune();
    const fresh: PeerAddress[] = [];
    for (const peer of reply.values ?? []) {
      if (this.#peers.size >= this.#maxPeers) break;
      if (!(peer.port >= 1 && peer.port <= 65535)) continue;
      const key = formatAddress(peer);
      if (this.#peers.has(key)) continue;
      const copy = { host: peer.host, port: peer.port };
      this.#peers.set(key, copy);
      fresh.push(copy);
    }
    return fresh;
  }

  /**
   * `contact` timed out (`retry`: it may be asked again, up to maxAttempts) or answered with an
   * error (no retry).
   */
  failed(contact: { host: string; port: number }, retry = false): void {
    const candidate = this.#inFlight.get(contact.host);
    if (!candidate || candidate.contact.port !== contact.port) return;
    this.#inFlight.delete(contact.host);
    this.#failures++;
    const kept = this.#candidates.includes(candidate);
    candidate.state = retry && kept && candidate.attempts < this.#maxAttempts ? 'fresh' : 'failed';
  }

  /** `contact` has not answered within the short timeout: one more query may go out meanwhile. */
  slow(contact: { host: string; port: number }): void {
    const candidate = this.#inFlight.get(contact.host);
    if (candidate && candidate.contact.port === contact.port) candidate.slow = true;
  }

  result(): LookupResult {
    const nodes: RespondedNode[] = [];
    let rounds = 0;
    for (const candidate of this.#candidates) {
      if (candidate.state !== 'responded') continue;
      rounds = Math.max(rounds, candidate.depth + 1);
      if (nodes.length >= this.#k) continue;
      const { id, host, port } = candidate.contact;
      nodes.push(candidate.token ? { id, host, port, token: candidate.token } : { id, host, port });
    }
    return {
      peers: [...this.#peers.values()],
      nodes,
      rounds,
      queries: this.#queries,
      responses: this.#responses,
      failures: this.#failures,
    };
  }

  #add(contact: NodeContact, depth: number): void {
    if (!(contact.port >= 1 && contact.port <= 65535) || contact.id.length !== ID_BYTES) return;
    if (this.#ownId && sameId(contact.id, this.#ownId)) return;
    if (this.#family !== undefined && contactFamily(contact.host) !== this.#family) return;
    if (this.#byHost.has(contact.host)) return; // one candidate per IP
    const candidate: Candidate = {
      contact: { id: contact.id, host: contact.host, port: contact.port },
      distance: distanceTo(contact.id, this.target),
      state: 'fresh',
      depth,
      slow: false,
      attempts: 0,
      token: undefined,
    };
    // Binary search for the insertion point (the list stays sorted).
    let low = 0;
    let high = this.#candidates.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (Buffer.compare(this.#candidates[mid]!.distance, candidate.distance) <= 0) low = mid + 1;
      else high = mid;
    }
    if (low >= this.#maxCandidates) return; // farther than everything kept
    this.#candidates.splice(low, 0, candidate);
    this.#byHost.set(contact.host, candidate);
  }

  #prune(): void {
    if (this.#candidates.length <= this.#maxCandidates) return;
    const dropped = this.#candidates.splice(this.#maxCandidates);
    // Dropped hosts stay in #byHost so they are not re-added (bounded: each was once a kept candidate
    // of this lookup, at most maxNodesPerReply per reply).
    for (const candidate of dropped) if (candidate.state === 'fresh') candidate.state = 'failed';
  }
}
