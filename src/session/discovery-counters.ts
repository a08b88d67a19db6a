import { PEER_FAILURES, type PeerFailure } from './doctor-report.js';
import { classifyCloseReason } from './peer-failure.js';

/** Per-source counters of a running download (`--verbose`), the same words as `doctor` uses. */
export interface DiscoveryCountersSummary {
  trackers: { answered: number; failed: number; peers: number };
  peers: {
    /** Connections tried: dials (connected or not) and incoming connections. */
    tried: number;
    /** Handshakes completed. */
    connected: number;
    /** Attempts that ended before a handshake, by reason. */
    failed: Record<PeerFailure, number>;
  };
}

/**
 * Counts what a session's discovery did, from its events: announces answered and failed (and the
 * peers they gave), connections tried, connected, and failed by reason (the `doctor` set). Memory
 * is bounded by the peers connected at once (the only addresses it keeps).
 */
export class DiscoveryCounters {
  readonly #trackers = { answered: 0, failed: 0, peers: 0 };
  #tried = 0;
  #connected = 0;
  readonly #failed = Object.fromEntries(PEER_FAILURES.map((f) => [f, 0])) as Record<PeerFailure, number>;
  /** Addresses whose handshake completed and whose connection is still open. */
  readonly #open = new Set<string>();

  trackerAnswered(peers: number): void {
    this.#trackers.answered++;
    this.#trackers.peers += peers;
  }

  trackerFailed(): void {
    this.#trackers.failed++;
  }

  dialFailed(reason: PeerFailure): void {
    this.#tried++;
    this.#failed[reason]++;
  }

  peerConnected(address: string): void {
    this.#tried++;
    this.#connected++;
    this.#open.add(address);
  }

  /** A connection that closes before its handshake counts as a failed attempt, by its reason. */
  peerDisconnected(address: string, reason: string): void {
    if (this.#open.delete(address)) return;
    this.#tried++;
    this.#failed[classifyCloseReason(reason, false)]++;
  }

  summary(): DiscoveryCountersSummary {
    return {
      trackers: { ...this.#trackers },
      peers: { tried: this.#tried, connected: this.#connected, failed: { ...this.#failed } },
    };
  }

  /** One line: `trackers: 2 answered (31 peers), 1 failed; peers: 12 tried, 3 connected, failed: 5 refused, 4 timeout`. */
  describe(): string {
    const { trackers, peers } = this.summary();
    const failed = PEER_FAILURES.filter((f) => peers.failed[f] > 0).map((f) => `${peers.failed[f]} ${f}`);
    return (
      `trackers: ${trackers.answered} answered (${trackers.peers} peers), ${trackers.failed} failed; ` +
      `peers: ${peers.tried} tried, ${peers.connected} connected${failed.length > 0 ? `, failed: ${failed.join(', ')}` : ''}`
    );
  }
}
