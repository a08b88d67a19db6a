/**
 * Runs one `Lookup` (lookup.ts) for a `DhtNode`: sends the queries it asks for through the node,
 * feeds it replies, errors, timeouts and slow marks, and settles when it is done, aborted, or the
 * node closes (the node calls the registered `finish`). Nodes of the other address family in a
 * reply go to `foreign` (BEP 32: the node hands them to the sibling family's lookup), and the
 * sibling may `offer` nodes to this one.
 */
import type { PeerAddress } from '../address.js';
import { LodestoneError } from '../errors.js';
import { contactFamily, type Lookup, type LookupResult } from './lookup.js';
import type { KrpcErrorMessage, KrpcResponse, NodeContact } from './messages.js';
import type { NodeId } from './node-id.js';

/** What a query's sender hears back; each at most once, and only one of response/error/timeout. */
export interface Handler {
  response?(message: KrpcResponse): void;
  error?(message: KrpcErrorMessage): void;
  timeout?(): void;
  slow?(): void;
}

export type LookupQueryBody =
  | { method: 'find_node'; target: NodeId }
  | { method: 'get_peers'; infoHash: NodeId };

export interface LookupDriverDeps {
  /** Sends a query (marked for the slow timer); false when nothing was sent. */
  query(to: NodeContact, body: LookupQueryBody, handler: Handler): boolean;
  /** The node keeps `finish` to end the lookup on close. */
  register(finish: () => void): void;
  unregister(finish: () => void): void;
  /** Called with the result before the promise resolves (not on abort). */
  done(result: LookupResult): void;
  signal?: AbortSignal;
  onPeers?(peers: PeerAddress[]): void;
  /**
   * Nodes of the other address family in a reply (a lookup of one family only; at most the
   * lookup's per-reply bound), with the depth they would have in this lookup.
   */
  foreign?(nodes: NodeContact[], depth: number): void;
  /** While true, a lookup with nothing left to ask stays open (a sibling may still offer nodes). */
  held?(): boolean;
  /** The lookup has nothing left to ask (it may still be held open), or it finished. */
  idle?(): void;
}

/** A running lookup. */
export interface DrivenLookup {
  readonly result: Promise<LookupResult>;
  /** True once it settled (done, aborted, or the node closed). */
  readonly finished: boolean;
  /** True when its lookup has nothing left to ask (or it finished). */
  readonly idle: boolean;
  /** Nodes learned elsewhere, at `depth`: asked like a reply's nodes; false once finished. */
  offer(nodes: NodeContact[], depth: number): boolean;
  /** Checks again whether it is done (call when what `held` depends on changed). */
  poke(): void;
}

/** Nodes read from one reply for the other family (the lookup's own bound for its family). */
const MAX_FOREIGN_PER_REPLY = 64;

export function lookupAborted(method: string): LodestoneError {
  return new LodestoneError('LODESTONE_ERR_ABORTED', `DHT ${method} lookup aborted`);
}

export function driveLookup(
  lookup: Lookup,
  method: 'find_node' | 'get_peers',
  deps: LookupDriverDeps,
): DrivenLookup {
  const { signal, onPeers } = deps;
  const target = lookup.target;
  const family = lookup.family;
  let finished = false;
  let settle: (result: LookupResult) => void = () => {};
  let fail: (error: LodestoneError) => void = () => {};
  const result = new Promise<LookupResult>((resolve, reject) => {
    settle = resolve;
    fail = reject;
  });
  const finish = (error?: LodestoneError): void => {
    if (finished) return;
    finished = true;
    deps.unregister(finish);
    signal?.removeEventListener('abort', onAbort);
    if (error) fail(error);
    else {
      const found = lookup.result();
      deps.done(found);
      settle(found);
    }
    deps.idle?.();
  };
  const onAbort = (): void => finish(lookupAborted(method));
  const handOver = (contact: NodeContact, nodes: NodeContact[]): void => {
    if (family === undefined || !deps.foreign) return;
    const depth = lookup.depthOf(contact);
    if (depth === undefined) return;
    const other: NodeContact[] = [];
    for (const node of nodes) {
      if (other.length >= MAX_FOREIGN_PER_REPLY) break;
      const its = contactFamily(node.host);
      if (its !== undefined && its !== family) other.push(node);
    }
    if (other.length > 0) deps.foreign(other, depth + 1);
  };
  const drive = (): void => {
    if (finished) return;
    for (;;) {
      const batch = lookup.next();
      if (batch.length === 0) break;
      for (const contact of batch) {
        const body: LookupQueryBody =
          method === 'find_node' ? { method, target } : { method, infoHash: target };
        const handler: Handler = {
          response: (reply) => {
            if (finished) return;
            const nodes = [...(reply.nodes ?? []), ...(reply.nodes6 ?? [])];
            handOver(contact, nodes);
            const peers = lookup.responded(contact, {
              nodes,
              ...(reply.values ? { values: reply.values } : {}),
              ...(reply.token ? { token: reply.token } : {}),
            });
            if (peers.length > 0) onPeers?.(peers);
            drive();
          },
          error: () => {
            lookup.failed(contact);
            drive();
          },
          timeout: () => {
            lookup.failed(contact, true);
            drive();
          },
          slow: () => {
            lookup.slow(contact);
            drive();
          },
        };
        if (!deps.query(contact, body, handler)) lookup.failed(contact);
      }
    }
    if (!lookup.done) return;
    if (deps.held?.()) deps.idle?.();
    else finish();
  };
  if (signal?.aborted) finish(lookupAborted(method));
  else {
    signal?.addEventListener('abort', onAbort, { once: true });
    deps.register(finish);
    drive();
  }
  return {
    result,
    get finished() {
      return finished;
    },
    get idle() {
      return finished || lookup.done;
    },
    offer: (nodes, depth) => {
      if (finished) return false;
      lookup.offer(nodes, depth);
      drive();
      return true;
    },
    poke: drive,
  };
}
