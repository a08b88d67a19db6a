/**
 * BEP 32: a node with both an IPv4 and an IPv6 side runs each lookup once per family, over that
 * family's routing table; this merges the per-family results into one. Pure.
 */
import { formatAddress, type PeerAddress } from '../address.js';
import { contactFamily, type LookupResult, type RespondedNode } from './lookup.js';

/**
 * One result from a lookup per family: peers once each (in the order found), the responding
 * nodes of each family (each list nearest first, IPv4's first), rounds the deepest of them, and
 * the query counts summed.
 */
export function mergeFamilyResults(results: readonly LookupResult[]): LookupResult {
  if (results.length === 1) return results[0]!;
  const peers = new Map<string, PeerAddress>();
  for (const result of results)
    for (const peer of result.peers) {
      const key = formatAddress(peer);
      if (!peers.has(key)) peers.set(key, peer);
    }
  return {
    peers: [...peers.values()],
    nodes: results.flatMap((result) => result.nodes),
    rounds: Math.max(0, ...results.map((result) => result.rounds)),
    queries: sum(results, 'queries'),
    responses: sum(results, 'responses'),
    failures: sum(results, 'failures'),
  };
}

/**
 * The announce_peer targets: in each family, the `k` closest responding nodes that gave a token
 * (`nodes` as mergeFamilyResults lists them: each family's nearest first).
 */
export function announceTargets(nodes: readonly RespondedNode[], k: number): RespondedNode[] {
  const counts = { 4: 0, 6: 0 };
  return nodes.filter((node) => {
    const family = contactFamily(node.host) ?? 4;
    if (node.token === undefined || counts[family] >= k) return false;
    counts[family]++;
    return true;
  });
}

function sum(results: readonly LookupResult[], key: 'queries' | 'responses' | 'failures'): number {
  return results.reduce((total, result) => total + result[key], 0);
}
