/**
 * A pure `DhtNode` on a fake clock whose queries are captured (for the BEP 32 unit tests): the
 * node, what it sent, and small builders for contacts near a target and replies to a query.
 */
import { DhtNode } from '../../src/dht/dht-node.js';
import type { KrpcMessage, KrpcQuery, NodeContact } from '../../src/dht/messages.js';
import { type RandomBytes, randomIdWithPrefix } from '../../src/dht/node-id.js';
import { FakeClock } from './fake-clock.js';
import { seededRandom } from './seeded-random.js';

export interface SentQuery {
  message: KrpcQuery;
  to: { host: string; port: number };
}

/** A node with id `id`, no refresh lookups at bootstrap, `families` when given; queries go to `sent`. */
export function capturingNode(id: Uint8Array, seed: number, families?: (4 | 6)[]) {
  const clock = new FakeClock();
  const sent: SentQuery[] = [];
  const node = new DhtNode({
    clock,
    random: seededRandom(seed),
    id,
    refreshOnBootstrap: false,
    ...(families ? { families } : {}),
    send: (message: KrpcMessage, to) => {
      if (message.kind === 'query') sent.push({ message, to });
    },
  });
  return { clock, node, sent };
}

/** A contact at `host`:6881 sharing `prefix` leading bits with `target` (more: closer). */
export function contactNear(
  target: Uint8Array,
  prefix: number,
  host: string,
  random: RandomBytes,
): NodeContact {
  return { id: randomIdWithPrefix(target, prefix, random), host, port: 6881 };
}

/** A response to `query` from the node `id`, with `extra` fields (nodes, nodes6, values, token). */
export function replyTo(query: SentQuery, id: Uint8Array, extra: object = {}): KrpcMessage {
  return { kind: 'response', tid: query.message.tid, id, ...extra };
}

/** Lets promise callbacks run (the node's lookups settle in microtasks). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}
