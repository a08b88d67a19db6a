/**
 * BEP 32: one lookup call runs a lookup per address family (each over its own routing table).
 * A reply in one family's lookup may name nodes of the other (`nodes6` in an IPv4 lookup, `nodes`
 * in an IPv6 one); the group hands them to the sibling lookup of that family, and a lookup with
 * nothing left to ask waits while a sibling still runs (it may yet be offered nodes). When no
 * sibling of that family runs (a one-family lookup such as a bucket refresh), the nodes go to
 * `orphans` (the node pings the ones its table has room for). Pure: no clock, no sockets.
 */
import type { DrivenLookup } from './lookup-driver.js';
import type { NodeContact } from './messages.js';
import type { Family } from './routing-entry.js';

export class FamilyLookupGroup {
  readonly #families: readonly Family[];
  readonly #members = new Map<Family, DrivenLookup>();
  readonly #orphans: (nodes: NodeContact[], family: Family) => void;

  /**
   * `families`: the lookups that will join (one waiting to join holds the others open);
   * `orphans`: nodes of a family with no running lookup in this group.
   */
  constructor(families: readonly Family[], orphans: (nodes: NodeContact[], family: Family) => void) {
    this.#families = families;
    this.#orphans = orphans;
  }

  /** Adds the running lookup of `family` (the others, maybe held for it, check again). */
  join(family: Family, lookup: DrivenLookup): void {
    this.#members.set(family, lookup);
    this.idle(family);
  }

  /** Nodes of the family other than `from`'s, from a reply in `from`'s lookup, at `depth`. */
  foreign(from: Family, nodes: NodeContact[], depth: number): void {
    const family: Family = from === 4 ? 6 : 4;
    const sibling = this.#members.get(family);
    if (!sibling?.offer(nodes, depth)) this.#orphans(nodes, family);
  }

  /** True while a lookup of another family than `family` still has something to ask. */
  held(family: Family): boolean {
    for (const other of this.#families) {
      if (other === family) continue;
      const lookup = this.#members.get(other);
      if (!lookup?.idle) return true;
    }
    return false;
  }

  /** `family`'s lookup became idle or finished: the others check whether they may finish. */
  idle(family: Family): void {
    for (const [other, lookup] of this.#members) if (other !== family && !lookup.finished) lookup.poke();
  }
}
