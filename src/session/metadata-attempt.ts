import { formatDurationMs } from '../duration.js';

/** Why a peer gave us no metadata, as counted for the "what was tried" summary. */
export type MetadataPeerOutcome =
  /** The TCP connection or the BitTorrent handshake failed. */
  | 'unreachable'
  /** Connected, but no extension protocol, no ut_metadata, no metadata_size, or it rejected our requests. */
  | 'no-metadata'
  /** Connected, then sent no extension handshake, or stopped answering metadata requests. */
  | 'timed-out'
  /** Sent metadata that does not match the info-hash. */
  | 'liar'
  /** Broke the protocol or closed the connection. */
  | 'closed';

export interface MetadataTrackerRecord {
  url: string;
  /** Answered at least once. */
  answered: boolean;
  /** The last failure, if it never answered. */
  error: string | undefined;
}

/** What a metadata fetch tried, for a summary when it fails (`MetadataFetcher.attempt`). */
export interface MetadataAttemptSummary {
  trackers: MetadataTrackerRecord[];
  /** Distinct peer addresses heard of (magnet, trackers, addPeer). */
  peersFound: number;
  /** Distinct addresses that completed the BitTorrent handshake. */
  peersConnected: number;
  /** Distinct addresses by their last outcome. */
  outcomes: Record<MetadataPeerOutcome, number>;
  /** Metadata blocks received (every attempt). */
  blocksReceived: number;
}

const OUTCOME_WORDS: Array<[MetadataPeerOutcome, string]> = [
  ['no-metadata', 'had no metadata'],
  ['timed-out', 'timed out'],
  ['liar', 'sent wrong metadata'],
  ['unreachable', 'unreachable'],
  ['closed', 'closed the connection'],
];

/**
 * Counters of a metadata fetch: trackers asked, peers found and what became of each.
 * Bounded by the address book (each counted address is one the book accepted).
 */
export class MetadataAttemptLog {
  readonly #trackers = new Map<string, MetadataTrackerRecord>();
  readonly #found = new Set<string>();
  readonly #connected = new Set<string>();
  readonly #outcomes = new Map<string, MetadataPeerOutcome>();
  #blocks = 0;

  trackerAsked(url: string): void {
    if (!this.#trackers.has(url)) this.#trackers.set(url, { url, answered: false, error: undefined });
  }

  trackerAnswered(url: string): void {
    this.#trackers.set(url, { url, answered: true, error: undefined });
  }

  trackerFailed(url: string, message: string): void {
    const record = this.#trackers.get(url);
    if (record?.answered) return;
    this.#trackers.set(url, { url, answered: false, error: message });
  }

  peerFound(key: string): void {
    this.#found.add(key);
  }

  peerConnected(key: string): void {
    this.#connected.add(key);
  }

  /** A liar stays a liar; otherwise the latest outcome counts. */
  peerEnded(key: string, outcome: MetadataPeerOutcome): void {
    if (this.#outcomes.get(key) !== 'liar') this.#outcomes.set(key, outcome);
  }

  blockReceived(): void {
    this.#blocks++;
  }

  summary(): MetadataAttemptSummary {
    const outcomes: Record<MetadataPeerOutcome, number> = {
      unreachable: 0,
      'no-metadata': 0,
      'timed-out': 0,
      liar: 0,
      closed: 0,
    };
    for (const outcome of this.#outcomes.values()) outcomes[outcome]++;
    return {
      trackers: [...this.#trackers.values()].map((record) => ({ ...record })),
      peersFound: this.#found.size,
      peersConnected: this.#connected.size,
      outcomes,
      blocksReceived: this.#blocks,
    };
  }
}

/**
 * One line saying what was tried, e.g. `2 trackers (1 answered, 1 failed: ECONNREFUSED),
 * 3 peers found, 2 connected, 2 had no metadata, 1 timed out`.
 */
export function describeMetadataAttempt(summary: MetadataAttemptSummary): string {
  const parts: string[] = [];
  const trackers = summary.trackers;
  if (trackers.length === 0) parts.push('no trackers');
  else {
    const answered = trackers.filter((t) => t.answered).length;
    const failed = trackers.filter((t) => !t.answered && t.error !== undefined);
    const silent = trackers.length - answered - failed.length;
    const details = [`${answered} answered`];
    if (failed.length > 0) {
      const reasons = [...new Set(failed.map((t) => t.error!))].slice(0, 3).join('; ');
      details.push(`${failed.length} failed: ${reasons}`);
    }
    if (silent > 0) details.push(`${silent} no answer yet`);
    parts.push(`${plural(trackers.length, 'tracker')} (${details.join(', ')})`);
  }
  parts.push(`${plural(summary.peersFound, 'peer')} found`, `${summary.peersConnected} connected`);
  for (const [outcome, words] of OUTCOME_WORDS) {
    const count = summary.outcomes[outcome];
    if (count > 0) parts.push(`${count} ${words}`);
  }
  if (summary.blocksReceived > 0) parts.push(`${plural(summary.blocksReceived, 'block')} received`);
  return parts.join(', ');
}

/** The message of the LODESTONE_ERR_METADATA error a fetch ends with when it makes no progress. */
export function metadataTimeoutMessage(timeoutMs: number, summary: MetadataAttemptSummary): string {
  return `metadata could not be fetched (no progress for ${formatDurationMs(timeoutMs)}): ${describeMetadataAttempt(summary)}`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
