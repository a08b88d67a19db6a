/**
 * The lookups of a `DhtNode` (dht-node.ts): one call runs one `Lookup` per address family (BEP 32),
 * each seeded from that family's routing table and asking only nodes of it, grouped so that nodes
 * of one family named in the other's replies reach that family's lookup (lookup-group.ts), or,
 * with no such lookup running, are pinged into the table. The results are merged
 * (family-results.ts). Pure: time through the node's clock, queries through the node.
 */
import type { PeerAddress } from '../address.js';
import { mergeFamilyResults } from './family-results.js';
import { Lookup, type LookupResult } from './lookup.js';
import { type DrivenLookup, driveLookup, type LookupDriverDeps, lookupAborted } from './lookup-driver.js';
import { FamilyLookupGroup } from './lookup-group.js';
import type { NodeContact } from './messages.js';
import type { NodeId } from './node-id.js';
import type { Family } from './routing-entry.js';
import type { RoutingTable } from './routing-table.js';

/** Other-family nodes of one reply pinged into the table when no lookup of their family runs. */
export const MAX_ORPHAN_PINGS = 8;

/** What the lookups need of their node. */
export interface NodeLookupsContext {
  k: number;
  alpha: number;
  maxCandidates: number;
  maxAttempts: number;
  /** The families the node has (the default for a lookup; orphans of another are dropped). */
  families: readonly Family[];
  ownId(): NodeId;
  table(): RoutingTable;
  now(): number;
  /** Sends a lookup query (marked for the slow timer); false when nothing was sent. */
  query: LookupDriverDeps['query'];
  /** Sends a ping (its answer adds the node to the table); `settled` once it ends, however. */
  ping(to: NodeContact, settled: () => void): void;
  closed(): boolean;
}

export interface NodeLookupOptions {
  signal?: AbortSignal;
  onPeers?(peers: PeerAddress[]): void;
  maxAttempts?: number;
  families?: readonly Family[];
}

export class NodeLookups {
  readonly #context: NodeLookupsContext;
  readonly #active = new Set<() => void>();
  /** Hosts of orphan pings awaiting an answer (bounded by the node's outstanding queries). */
  readonly #pinging = new Set<string>();
  #running = 0;
  /** Lookup calls started (one per call, however many families it runs in). */
  started = 0;

  constructor(context: NodeLookupsContext) {
    this.#context = context;
  }

  /** Lookup calls running. */
  get running(): number {
    return this.#running;
  }

  /** One lookup per family in `options.families` (default: the node's), merged. */
  async run(
    target: NodeId,
    method: 'find_node' | 'get_peers',
    extraSeeds: NodeContact[] = [],
    options: NodeLookupOptions = {},
  ): Promise<LookupResult> {
    if (options.signal?.aborted) throw lookupAborted(method);
    this.started++;
    const families = options.families ?? this.#context.families;
    const group = new FamilyLookupGroup(families, (nodes, family) => this.#pingForTable(nodes, family));
    this.#running++;
    try {
      const results = families.map((family) => {
        const driven = this.#familyLookup(target, method, family, extraSeeds, options, group);
        group.join(family, driven);
        return driven.result;
      });
      return mergeFamilyResults(await Promise.all(results));
    } finally {
      this.#running--;
    }
  }

  /** Ends every running lookup (each resolves with what it found). */
  finishAll(): void {
    for (const finish of [...this.#active]) finish();
  }

  #familyLookup(
    target: NodeId,
    method: 'find_node' | 'get_peers',
    family: Family,
    extraSeeds: NodeContact[],
    options: NodeLookupOptions,
    group: FamilyLookupGroup,
  ): DrivenLookup {
    const context = this.#context;
    const { signal, onPeers } = options;
    const lookup = new Lookup({
      target,
      ownId: context.ownId(),
      k: context.k,
      alpha: context.alpha,
      maxCandidates: context.maxCandidates,
      maxAttempts: options.maxAttempts ?? context.maxAttempts,
      family,
    });
    lookup.seed(context.table().closest(target, context.k * 2, family, context.now()));
    lookup.seed(extraSeeds);
    return driveLookup(lookup, method, {
      query: context.query,
      register: (finish) => this.#active.add(finish),
      unregister: (finish) => this.#active.delete(finish),
      done: (result) => {
        if (result.responses > 0) context.table().refreshed(target, family, context.now());
      },
      foreign: (nodes, depth) => group.foreign(family, nodes, depth),
      held: () => group.held(family),
      idle: () => group.idle(family),
      ...(signal ? { signal } : {}),
      ...(onPeers ? { onPeers } : {}),
    });
  }

  /**
   * Nodes of `family` that a reply named while no lookup of that family ran: when the node has
   * that family, a few the table has room for are pinged (an answer adds them, as any responder),
   * each once at a time however many replies name it.
   */
  #pingForTable(nodes: NodeContact[], family: Family): void {
    const context = this.#context;
    if (context.closed() || !context.families.includes(family)) return;
    const now = context.now();
    let pinged = 0;
    for (const node of nodes) {
      if (pinged >= MAX_ORPHAN_PINGS) break;
      if (this.#pinging.has(node.host) || !context.table().wants(node, now)) continue;
      this.#pinging.add(node.host);
      context.ping(node, () => this.#pinging.delete(node.host));
      pinged++;
    }
  }
}
