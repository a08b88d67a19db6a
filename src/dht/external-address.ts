/**
 * Our external address as other nodes see it (BEP 42's `ip` field in replies): a vote per
 * distinct responder address, the address with most votes wins once two agree. Bounded: at most
 * `maxVoters` responders are remembered (the oldest vote is forgotten first), so a flood of
 * replies cannot grow it, and one host cannot vote twice.
 */
import { formatAddress, type PeerAddress } from '../address.js';

export class ExternalAddressVotes {
  readonly #maxVoters: number;
  /** voter host → the address it reported (insertion order: oldest first). */
  readonly #votes = new Map<string, string>();
  readonly #addresses = new Map<string, PeerAddress>();

  constructor(maxVoters = 64) {
    this.#maxVoters = maxVoters;
  }

  /** `voter` (a responder's host) says we are at `seen`. */
  vote(voter: string, seen: PeerAddress): void {
    const key = formatAddress(seen);
    this.#votes.delete(voter);
    this.#votes.set(voter, key);
    this.#addresses.set(key, { host: seen.host, port: seen.port });
    if (this.#votes.size > this.#maxVoters) this.#votes.delete(this.#votes.keys().next().value!);
    // Forget addresses nobody votes for any more.
    const live = new Set(this.#votes.values());
    for (const address of this.#addresses.keys()) if (!live.has(address)) this.#addresses.delete(address);
  }

  /** The address most voters report, once at least two agree; undefined before. */
  current(): PeerAddress | undefined {
    const counts = new Map<string, number>();
    for (const address of this.#votes.values()) counts.set(address, (counts.get(address) ?? 0) + 1);
    let best: string | undefined;
    let bestCount = 1;
    for (const [address, count] of counts) {
      if (count > bestCount) {
        best = address;
        bestCount = count;
      }
    }
    return best === undefined ? undefined : this.#addresses.get(best);
  }
}
