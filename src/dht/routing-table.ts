/**
 * The Kademlia routing table (BEP 5): k-buckets of 8 nodes, split only where our own id falls,
 * node states by the 15-minute rule, a replacement cache per bucket, and one entry per IP address.
 *
 * Shape (as libtorrent's): a list of buckets; bucket `i` below the last holds the nodes sharing
 * exactly `i` leading bits with our id, the last one holds every node sharing at least as many.
 * A full last bucket splits in two; a full bucket elsewhere never grows. So the table holds about
 * k·log₂(N) nodes whatever N is, and memory is proportional to the buckets in use (a fixed
 * 160-slot array would cost the same in the worst case but not buy anything).
 *
 * One table per address family (BEP 32): IPv4 and IPv6 nodes never share a bucket.
 * Pure: time is passed in (`now`, from the node's injected clock).
 */

import { bestReplacement, pingCandidate, replacementVictim, unverifiedToEvict } from './bucket-choice.js';
import type { NodeContact } from './messages.js';
import {
  compareDistance,
  type NodeId,
  type RandomBytes,
  randomIdWithPrefix,
  sameId,
  sharedPrefixBits,
} from './node-id.js';
import {
  type Bucket,
  blankEntry,
  type Family,
  familyOf,
  type HeardResult,
  NODE_FRESH_MS,
  type NodeState,
  type RoutingEntry,
  type RoutingTableOptions,
} from './routing-entry.js';

export class RoutingTable {
  readonly #ownId: NodeId;
  readonly #k: number;
  readonly #maxReplacements: number;
  readonly #maxFailures: number;
  readonly #preferVerified: boolean;
  readonly #tables: Record<Family, Bucket[]>;
  /** host → entry, for the one-per-IP rule and address lookups (both families; hosts differ). */
  readonly #byHost = new Map<string, RoutingEntry>();

  constructor(options: RoutingTableOptions) {
    this.#ownId = options.ownId;
    this.#k = options.k ?? 8;
    this.#maxReplacements = options.replacements ?? 8;
    this.#maxFailures = options.maxFailures ?? 3;
    this.#preferVerified = options.preferVerified ?? true;
    this.#tables = {
      4: [{ nodes: [], replacements: [], lastActive: options.now }],
      6: [{ nodes: [], replacements: [], lastActive: options.now }],
    };
  }

  get ownId(): NodeId {
    return this.#ownId;
  }

  /** The state of an entry at `now`. */
  stateOf(entry: RoutingEntry, now: number): NodeState {
    if (entry.failures >= this.#maxFailures) return 'bad';
    if (entry.lastResponse === undefined) return 'questionable';
    if (now - entry.lastResponse < NODE_FRESH_MS) return 'good';
    if (entry.lastQuery !== undefined && now - entry.lastQuery < NODE_FRESH_MS) return 'good';
    return 'questionable';
  }

  /**
   * We heard from `contact`: it answered one of our queries (`responded`), or it queried us
   * (read-only queriers must not be passed here). Returns what the table did.
   */
  heard(contact: NodeContact, responded: boolean, now: number): HeardResult {
    if (sameId(contact.id, this.#ownId)) return { outcome: 'rejected' };
    const existing = this.#byHost.get(contact.host);
    if (existing) {
      // One entry per IP: a second id or port from a known address is ignored (a node that
      // claims every id gets one slot). The same node refreshes its entry.
      if (existing.port !== contact.port || !sameId(existing.id, contact.id)) return { outcome: 'rejected' };
      this.#touch(existing, responded, now);
      const bucket = this.#bucketFor(existing);
      if (bucket.nodes.includes(existing)) bucket.lastActive = now;
      else if (responded && bucket.nodes.length < this.#k) {
        // A replacement that answers while its bucket has room moves in.
        this.#dropReplacement(bucket, existing);
        bucket.nodes.push(existing);
        this.#index(existing);
        bucket.lastActive = now;
      } else {
        // Still waiting in the replacement cache: keep probing the bucket's stalest questionable node.
        const ping = this.#pingCandidate(bucket, now);
        if (ping) return { outcome: 'updated', ping };
      }
      return { outcome: 'updated' };
    }
    const entry = blankEntry(contact);
    this.#touch(entry, responded, now);
    return this.#insert(entry, now);
  }

  /** Takes over an entry of another table (our id changed), with its liveness; false if it found no place. */
  adopt(entry: RoutingEntry, now: number): boolean {
    if (sameId(entry.id, this.#ownId) || this.#byHost.has(entry.host)) return false;
    return this.#insert({ ...entry }, now).outcome === 'added';
  }

  /** We queried `host:port` (for the "last queried" record). */
  queried(host: string, port: number, now: number): void {
    const entry = this.#entryAt(host, port);
    if (entry) entry.lastQueried = now;
  }

  /**
   * `host:port` failed to answer a query in time. A node that becomes bad is replaced by the best
   * of its bucket's replacement cache; returns true when it left the table.
   */
  failed(host: string, port: number, now: number): boolean {
    const entry = this.#entryAt(host, port);
    if (!entry) return false;
    entry.failures++;
    const bucket = this.#bucketFor(entry);
    const inTable = bucket.nodes.indexOf(entry);
    if (inTable < 0) {
      // A replacement that fails is simply forgotten.
      if (entry.failures >= this.#maxFailures) this.#dropReplacement(bucket, entry);
      return false;
    }
    if (this.stateOf(entry, now) !== 'bad') return false;
    const replacement = this.#takeReplacement(bucket, now);
    if (!replacement) return false; // keep a bad node until something better comes (it may return)
    bucket.nodes.splice(inTable, 1, replacement);
    this.#byHost.delete(entry.host);
    return true;
  }

  /**
   * True when `contact` is new to us (its address unknown) and its bucket has room or could
   * split: worth a ping, so that an answer adds it.
   */
  wants(contact: NodeContact, now: number): boolean {
    if (!(contact.port >= 1 && contact.port <= 65535) || this.#byHost.has(contact.host)) return false;
    if (sameId(contact.id, this.#ownId)) return false;
    const family = familyOf(contact.host);
    const buckets = this.#tables[family];
    const index = this.#bucketIndex(contact.id, family);
    const bucket = buckets[index]!;
    if (bucket.nodes.length < this.#k) return true;
    if (index === buckets.length - 1 && buckets.length < 160) return true;
    return bucket.nodes.some((node) => this.stateOf(node, now) === 'bad');
  }

  /** The entry for `host:port`, if in the table or a replacement cache. */
  get(host: string, port: number): RoutingEntry | undefined {
    return this.#entryAt(host, port);
  }

  /** True when `host:port` is a table entry that has answered one of our queries. */
  hasResponded(host: string, port: number): boolean {
    return this.#entryAt(host, port)?.lastResponse !== undefined;
  }

  /**
   * Up to `count` table nodes of `family` closest to `target`, nearest first. `goodOnly` keeps
   * only good ones (what we hand to others); otherwise bad ones are left out and good ones come
   * before questionable ones at equal rank (what seeds our own lookups).
   */
  closest(target: NodeId, count: number, family: Family, now: number, goodOnly = false): NodeContact[] {
    // Selection of the closest `count` without sorting the table (count is small, k or 2k).
    const best: RoutingEntry[] = [];
    for (const bucket of this.#tables[family]) {
      for (const entry of bucket.nodes) {
        const state = this.stateOf(entry, now);
        if (state === 'bad' || (goodOnly && state !== 'good')) continue;
        if (best.length >= count && compareDistance(entry.id, best[best.length - 1]!.id, target) >= 0)
          continue;
        let at = best.length;
        while (at > 0 && compareDistance(entry.id, best[at - 1]!.id, target) < 0) at--;
        best.splice(at, 0, entry);
        if (best.length > count) best.pop();
      }
    }
    return best.map((entry) => ({ id: entry.id, host: entry.host, port: entry.port }));
  }

  /** Every node in the table (not the replacement caches), both families. */
  entries(): RoutingEntry[] {
    return ([4, 6] as const).flatMap((family) => this.#tables[family].flatMap((bucket) => bucket.nodes));
  }

  /** Nodes in the table (not counting replacement caches). */
  get size(): number {
    let size = 0;
    for (const family of [4, 6] as const)
      for (const bucket of this.#tables[family]) size += bucket.nodes.length;
    return size;
  }

  /** Buckets per family. */
  bucketCount(family: Family): number {
    return this.#tables[family].length;
  }

  /** Counts of table nodes by state. */
  counts(now: number): Record<NodeState, number> & { replacements: number } {
    const counts = { good: 0, questionable: 0, bad: 0, replacements: 0 };
    for (const family of [4, 6] as const) {
      for (const bucket of this.#tables[family]) {
        for (const entry of bucket.nodes) counts[this.stateOf(entry, now)]++;
        counts.replacements += bucket.replacements.length;
      }
    }
    return counts;
  }

  /**
   * Targets to look up for the buckets of `family` with no activity for `staleMs` (BEP 5's refresh):
   * a random id in each stale bucket's range. Empty buckets count only once the table has nodes.
   */
  staleTargets(family: Family, now: number, random: RandomBytes, staleMs = NODE_FRESH_MS): NodeId[] {
    const buckets = this.#tables[family];
    if (buckets.every((bucket) => bucket.nodes.length === 0)) return [];
    const targets: NodeId[] = [];
    buckets.forEach((bucket, index) => {
      if (now - bucket.lastActive >= staleMs) targets.push(randomIdWithPrefix(this.#ownId, index, random));
    });
    return targets;
  }

  /** A lookup for `target` finished: its bucket counts as refreshed. */
  refreshed(target: NodeId, family: Family, now: number): void {
    const buckets = this.#tables[family];
    buckets[Math.min(sharedPrefixBits(this.#ownId, target), buckets.length - 1)]!.lastActive = now;
  }

  /** Approximate bytes held (entries, ids, host strings, maps). */
  memoryBytes(): number {
    let entries = 0;
    for (const family of [4, 6] as const)
      for (const bucket of this.#tables[family]) entries += bucket.nodes.length + bucket.replacements.length;
    // ~450 bytes an entry as measured by bench/dht-sim.ts (object, id, host string, map slot).
    return entries * 450 + (this.#tables[4].length + this.#tables[6].length) * 64;
  }

  #touch(entry: RoutingEntry, responded: boolean, now: number): void {
    if (responded) {
      entry.lastResponse = now;
      entry.failures = 0;
    } else {
      entry.lastQuery = now;
    }
  }

  #bucketIndex(id: NodeId, family: Family): number {
    return Math.min(sharedPrefixBits(this.#ownId, id), this.#tables[family].length - 1);
  }

  #bucketFor(entry: NodeContact): Bucket {
    const family = familyOf(entry.host);
    return this.#tables[family][this.#bucketIndex(entry.id, family)]!;
  }

  #entryAt(host: string, port: number): RoutingEntry | undefined {
    const entry = this.#byHost.get(host);
    return entry && entry.port === port ? entry : undefined;
  }

  #insert(entry: RoutingEntry, now: number): HeardResult {
    const family = familyOf(entry.host);
    for (;;) {
      const buckets = this.#tables[family];
      const index = this.#bucketIndex(entry.id, family);
      const bucket = buckets[index]!;
      if (bucket.nodes.some((node) => sameId(node.id, entry.id))) return { outcome: 'rejected' };
      if (bucket.nodes.length < this.#k) {
        bucket.nodes.push(entry);
        this.#index(entry);
        bucket.lastActive = now;
        return { outcome: 'added' };
      }
      // A full bucket: a bad node gives way to a newcomer that has answered us.
      const bad = bucket.nodes.findIndex((node) => this.stateOf(node, now) === 'bad');
      if (bad >= 0 && entry.lastResponse !== undefined) {
        this.#byHost.delete(bucket.nodes[bad]!.host);
        bucket.nodes[bad] = entry;
        this.#index(entry);
        bucket.lastActive = now;
        return { outcome: 'added' };
      }
      if (index === buckets.length - 1 && buckets.length < 160) {
        this.#split(family);
        continue;
      }
      const unverified = this.#preferVerified
        ? unverifiedToEvict(bucket.nodes, entry, (node) => this.stateOf(node, now))
        : -1;
      if (unverified >= 0) {
        const evicted = bucket.nodes[unverified]!;
        bucket.nodes[unverified] = entry;
        this.#index(entry);
        bucket.lastActive = now;
        this.#byHost.delete(evicted.host);
        this.#addReplacement(bucket, evicted, now); // it waits there, as any node would
        return { outcome: 'added' };
      }
      return this.#addReplacement(bucket, entry, now);
    }
  }

  #split(family: Family): void {
    const buckets = this.#tables[family];
    const depth = buckets.length - 1;
    const last = buckets[depth]!;
    const next: Bucket = { nodes: [], replacements: [], lastActive: last.lastActive };
    const stays = (node: RoutingEntry): boolean => sharedPrefixBits(this.#ownId, node.id) === depth;
    next.nodes = last.nodes.filter((node) => !stays(node));
    last.nodes = last.nodes.filter(stays);
    next.replacements = last.replacements.filter((node) => !stays(node));
    last.replacements = last.replacements.filter(stays);
    buckets.push(next);
    // Fill the emptied slots from the replacement caches.
    for (const bucket of [last, next]) {
      while (bucket.nodes.length < this.#k && bucket.replacements.length > 0) {
        bucket.nodes.push(bucket.replacements.pop()!);
      }
    }
  }

  #addReplacement(bucket: Bucket, entry: RoutingEntry, now: number): HeardResult {
    if (bucket.replacements.some((node) => sameId(node.id, entry.id))) return { outcome: 'rejected' };
    if (bucket.replacements.length >= this.#maxReplacements) {
      // Drop the replacement we know least of: one that never answered, else the oldest (BEP 42:
      // unverified ones first when preferring verified ids).
      const victim = replacementVictim(bucket.replacements, entry, this.#preferVerified);
      if (victim < 0) return { outcome: 'rejected' };
      this.#byHost.delete(bucket.replacements[victim]!.host);
      bucket.replacements.splice(victim, 1);
    }
    bucket.replacements.push(entry);
    this.#index(entry);
    // BEP 5: ping the least recently seen questionable node; if it fails, the newcomer replaces it.
    const ping = this.#pingCandidate(bucket, now);
    return ping ? { outcome: 'replacement', ping } : { outcome: 'replacement' };
  }

  #pingCandidate(bucket: Bucket, now: number): NodeContact | undefined {
    return pingCandidate(bucket.nodes, (node) => this.stateOf(node, now), now);
  }

  #takeReplacement(bucket: Bucket, now: number): RoutingEntry | undefined {
    if (bucket.replacements.length === 0) return undefined;
    // The most recently heard good replacement (a verified one first), else the newest.
    const best = bestReplacement(
      bucket.replacements,
      (entry) => this.stateOf(entry, now),
      this.#preferVerified,
    );
    return bucket.replacements.splice(best, 1)[0];
  }

  #dropReplacement(bucket: Bucket, entry: RoutingEntry): void {
    const index = bucket.replacements.indexOf(entry);
    if (index >= 0) bucket.replacements.splice(index, 1);
    if (this.#byHost.get(entry.host) === entry) this.#byHost.delete(entry.host);
  }

  #index(entry: RoutingEntry): void {
    this.#byHost.set(entry.host, entry);
  }
}
