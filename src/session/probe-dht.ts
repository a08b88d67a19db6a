/**
 * The DHT as a source of a discovery probe (`lodestone doctor`): wait for the bootstrap, then one
 * get_peers lookup for the info-hash, within the probe's time. Its counters go to the report's
 * `dht` source; peers go to the probe as they come. Never pretends: a bootstrap that reached no
 * node, or a lookup cut by the time bound, is said as such.
 */
import type { PeerAddress } from '../address.js';
import type { DoctorSource } from './doctor-report.js';

/** What the probe needs of a running DHT (the client's `DhtService` has it). */
export interface ProbeDht {
  /** Resolves true once bootstrap is over, false when `signal` ends the wait first. */
  whenReady(signal?: AbortSignal): Promise<boolean>;
  /** get_peers for `infoHash`; undefined when the DHT is closed; rejects when `signal` aborts it. */
  getPeers(
    infoHash: Uint8Array,
    onPeers: (peers: PeerAddress[]) => void,
    signal?: AbortSignal,
  ): Promise<ProbeDhtLookup | undefined>;
  /** Nodes in the routing table (undefined: not running). */
  stats(): { nodes: number } | undefined;
  /** Contacts the bootstrap asked. */
  readonly bootstrapContacts: number;
}

/** What the probe reads of a finished lookup (a `GetPeersResult` has it). */
export interface ProbeDhtLookup {
  peers: PeerAddress[];
  /** Hops: the deepest answering node's depth + 1. */
  rounds: number;
  /** Queries sent and answered. */
  queries: number;
  responses: number;
}

/** The label of the DHT source, and of peers it named. */
export const DHT_LABEL = 'DHT';

/** A `dht` source that did not run, and why (`--no-dht`, a private torrent). */
export function dhtNotUsed(note: string): DoctorSource {
  return { kind: 'dht', label: DHT_LABEL, status: 'not-used', peers: 0, note };
}

/**
 * Runs the DHT part of a probe into `source` (status `no-answer` until something is known):
 * `onPeers` gets each batch of peers found; `signal` is the probe's end. Never rejects.
 */
export async function probeDht(
  dht: ProbeDht,
  infoHash: Uint8Array,
  source: DoctorSource,
  onPeers: (peers: PeerAddress[]) => void,
  signal: AbortSignal,
): Promise<void> {
  const ready = await dht.whenReady(signal);
  if (!ready) {
    source.status = 'no-answer';
    source.error = `the DHT bootstrap did not finish in time (${contacts(dht.bootstrapContacts)} asked)`;
    return;
  }
  const nodes = dht.stats()?.nodes ?? 0;
  source.nodesKnown = nodes;
  if (nodes === 0) {
    // An empty table: a lookup would end at once having asked nobody.
    source.status = 'failed';
    source.error = `no node answered the bootstrap (${contacts(dht.bootstrapContacts)} tried)`;
    return;
  }
  let result: ProbeDhtLookup | undefined;
  try {
    result = await dht.getPeers(
      infoHash,
      (peers) => {
        source.peers += peers.length;
        onPeers(peers);
      },
      signal,
    );
  } catch (error) {
    source.status = signal.aborted ? 'no-answer' : 'failed';
    source.error = signal.aborted
      ? `the lookup was still running at the end of the time (${source.peers} peers so far)`
      : error instanceof Error
        ? error.message
        : String(error);
    return;
  }
  if (!result) {
    source.status = 'failed';
    source.error = 'the DHT closed before the lookup';
    return;
  }
  source.status = result.responses > 0 ? 'answered' : 'failed';
  source.peers = result.peers.length;
  source.nodesReached = result.responses;
  source.queries = result.queries;
  source.rounds = result.rounds;
  if (result.responses === 0)
    source.error = `no node answered the lookup (${result.queries} queries, ${nodes} nodes known)`;
}

function contacts(count: number): string {
  return `${count} contact${count === 1 ? '' : 's'}`;
}
