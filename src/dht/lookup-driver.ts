/**
 * Runs one `Lookup` (lookup.ts) for a `DhtNode`: sends the queries it asks for through the node,
 * feeds it replies, errors, timeouts and slow marks, and settles when it is done, aborted, or the
 * node closes (the node calls the registered `finish`).
 */
import type { PeerAddress } from '../address.js';
import { LodestoneError } from '../errors.js';
import type { Lookup, LookupResult } from './lookup.js';
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
}

export function lookupAborted(method: string): LodestoneError {
  return new LodestoneError('LODESTONE_ERR_ABORTED', `DHT ${method} lookup aborted`);
}

export function driveLookup(
  lookup: Lookup,
  method: 'find_node' | 'get_peers',
  deps: LookupDriverDeps,
): Promise<LookupResult> {
  const { signal, onPeers } = deps;
  const target = lookup.target;
  return new Promise<LookupResult>((resolve, reject) => {
    let finished = false;
    const finish = (error?: LodestoneError): void => {
      if (finished) return;
      finished = true;
      deps.unregister(finish);
      signal?.removeEventListener('abort', onAbort);
      if (error) {
        reject(error);
        return;
      }
      const result = lookup.result();
      deps.done(result);
      resolve(result);
    };
    const onAbort = (): void => finish(lookupAborted(method));
    signal?.addEventListener('abort', onAbort, { once: true });
    deps.register(finish);
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
      if (lookup.done) finish();
    };
    drive();
  });
}
