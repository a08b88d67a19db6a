/**
 * Which node gives way in a full bucket, and which replacement moves in: the BEP 42 preference
 * (libtorrent's `dht_prefer_verified_node_ids`, on by default there too). A node whose id matches
 * its IP (or whose IP BEP 42 exempts: private, loopback) is "verified"; most of the real network
 * is not, so unverified nodes are never refused: they fill any free slot and wait in replacement
 * caches, and only give way to a verified node that has answered us. Pure, on plain entries.
 */
import type { NodeContact } from './messages.js';
import type { NodeState, RoutingEntry } from './routing-entry.js';

type StateOf = (entry: RoutingEntry) => NodeState;

/**
 * The index of the node of a full bucket that a verified newcomer (one that answered us) takes
 * the place of: an unverified one, the least recently heard first (questionable before good).
 * -1 when every node is verified (or the newcomer is not).
 */
export function unverifiedToEvict(
  nodes: readonly RoutingEntry[],
  newcomer: RoutingEntry,
  stateOf: StateOf,
): number {
  if (!newcomer.verified || newcomer.lastResponse === undefined) return -1;
  let pick = -1;
  let pickRank = Number.POSITIVE_INFINITY;
  nodes.forEach((node, index) => {
    if (node.verified) return;
    const seen = Math.max(node.lastResponse ?? 0, node.lastQuery ?? 0);
    // Questionable nodes go first: rank them below every good one.
    const rank = stateOf(node) === 'good' ? seen + Number.MAX_SAFE_INTEGER / 2 : seen;
    if (rank < pickRank) {
      pick = index;
      pickRank = rank;
    }
  });
  return pick;
}

/**
 * The replacement to move into the table: the most recently heard good verified one, else the
 * most recently heard good one, else the newest. -1 when there is none.
 */
export function bestReplacement(
  replacements: readonly RoutingEntry[],
  stateOf: StateOf,
  preferVerified = true,
): number {
  let good = -1;
  for (let i = replacements.length - 1; i >= 0; i--) {
    const entry = replacements[i]!;
    if (stateOf(entry) !== 'good') continue;
    if (entry.verified || !preferVerified) return i;
    if (good < 0) good = i;
  }
  return good >= 0 ? good : replacements.length - 1;
}

/**
 * The replacement to drop for a newcomer when the cache is full: one that never answered (an
 * unverified one first); when all have answered, a newcomer that never did is refused (-1), a
 * verified one drops the oldest unverified, any other the oldest.
 */
export function replacementVictim(
  replacements: readonly RoutingEntry[],
  newcomer: RoutingEntry,
  preferVerified = true,
): number {
  const silentUnverified = preferVerified
    ? replacements.findIndex((entry) => entry.lastResponse === undefined && !entry.verified)
    : -1;
  if (silentUnverified >= 0) return silentUnverified;
  const silent = replacements.findIndex((entry) => entry.lastResponse === undefined);
  if (silent >= 0) return silent;
  if (newcomer.lastResponse === undefined) return -1;
  const unverified =
    preferVerified && newcomer.verified ? replacements.findIndex((entry) => !entry.verified) : -1;
  return Math.max(unverified, 0);
}

/**
 * BEP 5: the node of a bucket to ping when a newcomer waits for a place: the least recently seen
 * questionable one not queried in the last 10 s (one being pinged is left alone).
 */
export function pingCandidate(
  nodes: readonly RoutingEntry[],
  stateOf: StateOf,
  now: number,
): NodeContact | undefined {
  let stalest: RoutingEntry | undefined;
  let stalestSeen = Number.POSITIVE_INFINITY;
  for (const node of nodes) {
    if (stateOf(node) !== 'questionable') continue;
    if (node.lastQueried !== undefined && now - node.lastQueried < 10_000) continue; // being pinged
    const seen = Math.max(node.lastResponse ?? 0, node.lastQuery ?? 0);
    if (seen < stalestSeen) {
      stalest = node;
      stalestSeen = seen;
    }
  }
  return stalest ? { id: stalest.id, host: stalest.host, port: stalest.port } : undefined;
}
