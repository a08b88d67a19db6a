/**
 * The routing table's entries and their shapes (routing-table.ts): address families, the BEP 5
 * node states, one entry's liveness record, a bucket, the table's options. Pure.
 */
import type { NodeContact } from './messages.js';
import type { NodeId } from './node-id.js';
import { isSecureNodeId } from './secure-id.js';

/** An address family: 4 or 6. */
export type Family = 4 | 6;

/** The family of a literal address (IPv6 literals contain ':'). */
export function familyOf(host: string): Family {
  return host.includes(':') ? 6 : 4;
}

/** BEP 5's 15-minute rule. */
export const NODE_FRESH_MS = 15 * 60_000;

export type NodeState = 'good' | 'questionable' | 'bad';

/** One routing-table entry: the contact and what we know of its liveness. */
export interface RoutingEntry extends NodeContact {
  /** When it last answered one of our queries (undefined: never). */
  lastResponse: number | undefined;
  /** When it last sent us a query. */
  lastQuery: number | undefined;
  /** When we last sent it a query. */
  lastQueried: number | undefined;
  /** Consecutive queries of ours it failed to answer. */
  failures: number;
  /** BEP 42: its id matches its IP (or the IP is exempt: private, loopback). Preferred, not required. */
  verified: boolean;
}

/** One k-bucket: its nodes, its replacement cache, and when it was last active. */
export interface Bucket {
  nodes: RoutingEntry[];
  replacements: RoutingEntry[];
  /** Last time a node in it answered, joined, or a lookup into its range finished. */
  lastActive: number;
}

export interface RoutingTableOptions {
  /** Our node id. */
  ownId: NodeId;
  /** Nodes per bucket. @default 8 */
  k?: number;
  /** Replacement-cache entries per bucket. @default 8 */
  replacements?: number;
  /** Consecutive timeouts that make a node bad. @default 3 */
  maxFailures?: number;
  /**
   * BEP 42: in a full bucket an unverified node gives way to a verified one that answered us (it
   * moves to the replacement cache), and verified replacements move in first. @default true
   */
  preferVerified?: boolean;
  /** Time the table is created (buckets count as active from then). */
  now: number;
}

/** What `heard` did with a contact. */
export interface HeardResult {
  outcome: 'added' | 'updated' | 'replacement' | 'rejected';
  /** A questionable node of the full bucket that the caller should ping (BEP 5): if it fails, the newcomer can take its place. */
  ping?: NodeContact;
}

/** A new entry for `contact`, never heard from. */
export function blankEntry(contact: NodeContact): RoutingEntry {
  return {
    id: contact.id,
    host: contact.host,
    port: contact.port,
    lastResponse: undefined,
    lastQuery: undefined,
    lastQueried: undefined,
    failures: 0,
    verified: isSecureNodeId(contact.id, contact.host),
  };
}
