/**
 * A minimal answerer of DHT queries for the simulated network (test/helpers/dht-sim.ts): ping,
 * find_node, get_peers (with a per-querier token) and announce_peer, no rate limits, no bounds.
 * The real one is dht-proto's QueryResponder; this one only lets the sim exercise the
 * searching side (routing table, lookups, node) on its own.
 */
import type { PeerAddress } from '../../src/address.js';
import type { DhtNodeContext, QueryAnswerer } from '../../src/dht/dht-node.js';
import type { KrpcErrorMessage, KrpcQuery, KrpcResponse } from '../../src/dht/messages.js';
import { idHex } from '../../src/dht/node-id.js';

export class SimAnswerer implements QueryAnswerer {
  readonly #context: DhtNodeContext;
  readonly #peers = new Map<string, PeerAddress[]>();

  constructor(context: DhtNodeContext) {
    this.#context = context;
  }

  answer(
    query: KrpcQuery,
    from: { host: string; port: number },
  ): KrpcResponse | KrpcErrorMessage | undefined {
    const base = { kind: 'response' as const, tid: query.tid, id: this.#context.ownId() };
    const token = Buffer.from(from.host, 'latin1');
    switch (query.method) {
      case 'ping':
        return base;
      case 'find_node':
        return { ...base, nodes: this.#context.closestNodes(query.target, 4, 8) };
      case 'get_peers': {
        const values = this.#peers.get(idHex(query.infoHash));
        const nodes = this.#context.closestNodes(query.infoHash, 4, 8);
        return values ? { ...base, nodes, values, token } : { ...base, nodes, token };
      }
      case 'announce_peer': {
        if (Buffer.compare(query.token, token) !== 0)
          return { kind: 'error', tid: query.tid, code: 203, message: 'bad token' };
        const key = idHex(query.infoHash);
        const list = this.#peers.get(key) ?? [];
        list.push({ host: from.host, port: query.impliedPort ? from.port : query.port });
        this.#peers.set(key, list);
        return base;
      }
      default:
        return { kind: 'error', tid: query.tid, code: 204, message: 'method unknown' };
    }
  }
}
