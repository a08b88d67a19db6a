import {
  countPeers,
  type DoctorPeerCounts,
  type DoctorReport,
  type DoctorSource,
  type PeerFailure,
} from './doctor-report.js';

/**
 * What a discovery probe found, in one word:
 * - `no-sources`: nothing could name a peer (no trackers, no `x.pe`, no `--peer`, no DHT)
 * - `trackers-failed`: every tracker failed or did not answer, and no other source named a peer
 * - `dht-failed`: no tracker to ask, and the DHT reached no node (or did not finish in time)
 * - `no-peers`: a source answered, but with no peers
 * - `unreachable`: peers were named, none could be connected (refused, timeouts, mixed reasons)
 * - `dropped`: peers were named, and every one that accepted a connection dropped it
 * - `encryption-mismatch`: every peer failed the encryption handshake (a policy neither side shares)
 * - `wrong-info-hash`: the peers that answered are serving another torrent
 * - `no-metadata`: (magnet) peers connected, none offers the metadata
 * - `no-seeder`: (torrent) peers connected, none has every piece, and together they miss some
 * - `complete-without-seeder`: (torrent) no single seeder, but together the peers have every piece
 * - `healthy`: peers with the data (or the metadata) are reachable
 */
export type DoctorVerdictCode =
  | 'no-sources'
  | 'trackers-failed'
  | 'dht-failed'
  | 'no-peers'
  | 'unreachable'
  | 'dropped'
  | 'encryption-mismatch'
  | 'wrong-info-hash'
  | 'no-metadata'
  | 'no-seeder'
  | 'complete-without-seeder'
  | 'healthy';

export interface DoctorVerdict {
  code: DoctorVerdictCode;
  /** A download (or metadata fetch) can be expected to make progress with what was reached. */
  ok: boolean;
  /** One paragraph of plain English. It may quote tracker errors: escape before printing. */
  text: string;
}

const FAILURE_WORDS: Record<PeerFailure, string> = {
  refused: 'refused the connection',
  timeout: 'timed out',
  dropped: 'dropped us',
  'wrong-info-hash': 'answered for another torrent (wrong info-hash)',
  'handshake-failed': 'sent a broken handshake',
  'encryption-failed': 'failed the encryption handshake',
  'not-tried': 'were not tried in time',
  other: 'failed for other reasons',
};

/** The verdict on a probe's report (pure: the report in, the verdict out). */
export function doctorVerdict(report: DoctorReport): DoctorVerdict {
  const counts = countPeers(report);
  if (counts.found === 0) return noPeersVerdict(report);
  const verdict = counts.connected === 0 ? unreachableVerdict(counts) : connectedVerdict(report, counts);
  return { ...verdict, text: verdict.text + trackerNote(report) + dhtNote(report) };
}

/** What the DHT did, when peers were found (by it or elsewhere). */
function dhtNote(report: DoctorReport): string {
  const dht = report.sources.find((s) => s.kind === 'dht');
  if (!dht) return '';
  if (dht.status === 'answered')
    return ` The DHT found ${plural(dht.peers, 'peer')} (${plural(dht.nodesReached ?? 0, 'node')} reached).`;
  if (dht.status === 'failed' || dht.status === 'no-answer')
    return ` The DHT found nobody: ${dhtTrouble(dht)}.`;
  return '';
}

/** Why the DHT gave nothing (its error, our text or a remote one). */
function dhtTrouble(dht: DoctorSource): string {
  return dht.error ?? (dht.status === 'no-answer' ? 'no answer in time' : 'it failed');
}

/** Trackers that failed while peers came from elsewhere: worth a sentence. */
function trackerNote(report: DoctorReport): string {
  const trackers = report.sources.filter((s) => s.kind === 'tracker');
  const failed = trackers.filter((s) => s.status === 'failed').length;
  const silent = trackers.filter((s) => s.status === 'no-answer').length;
  if (failed + silent === 0) return '';
  const parts = [
    ...(failed > 0 ? [`${failed} failed`] : []),
    ...(silent > 0 ? [`${silent} did not answer`] : []),
  ];
  return ` Of ${plural(trackers.length, 'tracker')}, ${parts.join(' and ')}.`;
}

function noPeersVerdict(report: DoctorReport): DoctorVerdict {
  const ran = report.sources.filter((s) => s.status !== 'not-available' && s.status !== 'not-used');
  const missing = notAvailableNote(report);
  if (ran.length === 0)
    return {
      code: 'no-sources',
      ok: false,
      text: `There is no way to find peers for this ${report.kind}: it lists no trackers and no peer addresses${missing}. Add a tracker or a peer (--peer) to reach a swarm.`,
    };
  const trackers = ran.filter((s) => s.kind === 'tracker');
  const dht = ran.find((s) => s.kind === 'dht');
  const answered = ran.filter((s) => s.status === 'answered');
  if (answered.length === 0) {
    const dhtPart = dht ? ` and the DHT reached no peer (${dhtTrouble(dht)})` : '';
    if (trackers.length === 0 && dht)
      return {
        code: 'dht-failed',
        ok: false,
        text: `There is no tracker to ask${dhtPart} and no other source named a peer${missing}, so 0 peers were found: this ${report.kind} has no reachable seeders. Check that UDP is not blocked and that the DHT bootstrap nodes are reachable, or give a tracker or a peer address.`,
      };
    return {
      code: 'trackers-failed',
      ok: false,
      text: `No tracker answered (${trackersFailed(trackers)})${dhtPart} and no other source named a peer${missing}, so 0 peers were found: this ${report.kind} has no reachable seeders. The trackers may be down or blocked; try other trackers or a peer address.`,
    };
  }
  if (dht?.status === 'answered' && answered.length === 1) {
    const trackerPart =
      trackers.length === 0
        ? 'There is no tracker to ask'
        : `No tracker answered (${trackersFailed(trackers)})`;
    return {
      code: 'no-peers',
      ok: false,
      text: `${trackerPart} and the DHT returned 0 peers (${plural(dht.nodesReached ?? 0, 'node')} reached, ${plural(dht.rounds ?? 0, 'round')})${missing}: this ${report.kind} has no reachable seeders, or nobody announced it to the DHT.`,
    };
  }
  return {
    code: 'no-peers',
    ok: false,
    text: `${plural(answered.length, 'source')} answered (${answered.map((s) => s.label).join(', ')}) but named 0 peers${missing}: nobody is sharing this ${report.kind} right now, or the tracker does not know it.`,
  };
}

/** "2 trackers: 1 failed (error), 1 did not answer in time". */
function trackersFailed(trackers: DoctorSource[]): string {
  const failed = trackers.filter((s) => s.status === 'failed');
  const reasons = [...new Set(failed.map((s) => s.error ?? 'unknown error'))].slice(0, 3).join('; ');
  const silent = trackers.length - failed.length;
  const parts = [
    ...(failed.length > 0 ? [`${failed.length} failed (${reasons})`] : []),
    ...(silent > 0 ? [`${silent} did not answer in time`] : []),
  ];
  return `${plural(trackers.length, 'tracker')}: ${parts.join(', ')}`;
}

function unreachableVerdict(counts: DoctorPeerCounts): DoctorVerdict {
  const found = plural(counts.found, 'peer');
  const reasons = (Object.entries(counts.failures) as [PeerFailure, number][]).filter(([, n]) => n > 0);
  if (reasons.length === 1) {
    const [reason] = reasons[0]!;
    const all = counts.found === 1 ? 'it' : 'all';
    switch (reason) {
      case 'refused':
      case 'timeout':
        return {
          code: 'unreachable',
          ok: false,
          text: `${found} found but ${all} ${FAILURE_WORDS[reason]}: check your network and firewall (outgoing TCP and UDP), or the peers are offline or behind NAT.`,
        };
      case 'dropped':
        return {
          code: 'dropped',
          ok: false,
          text: `${found} found but ${all} dropped the connection: they may be overloaded, may have banned us, or may want another encryption setting (try --encryption require or --encryption disable).`,
        };
      case 'encryption-failed':
        return {
          code: 'encryption-mismatch',
          ok: false,
          text: `${found} found but ${all} failed the encryption handshake: they may not speak encryption (MSE/PE) or not the kind we allow; try --encryption prefer or --encryption allow.`,
        };
      case 'wrong-info-hash':
        return {
          code: 'wrong-info-hash',
          ok: false,
          text: `${found} found but ${all} answered for another torrent (wrong info-hash): the sources list peers that do not have this torrent; check that the torrent or magnet is the right one.`,
        };
      default:
    }
  }
  const details = reasons.map(([reason, n]) => `${n} ${FAILURE_WORDS[reason]}`).join(', ');
  return {
    code: 'unreachable',
    ok: false,
    text: `${found} found but none could be connected (${details}): check your network and firewall, or the peers are offline.`,
  };
}

function connectedVerdict(report: DoctorReport, counts: DoctorPeerCounts): DoctorVerdict {
  const reachable = `${plural(counts.connected, 'peer')} reachable (of ${counts.found} found)`;
  if (report.kind === 'magnet') {
    if (counts.withMetadata === 0)
      return {
        code: 'no-metadata',
        ok: false,
        text: `${reachable}, but none offers the metadata (ut_metadata with a size): the download cannot start until a peer that has the torrent's metadata is reachable.`,
      };
    return {
      code: 'healthy',
      ok: true,
      text: `${reachable}, ${counts.withMetadata} with the metadata${counts.seeders > 0 ? ` (${plural(counts.seeders, 'seeder')})` : ''}; the metadata and then the download should start.`,
    };
  }
  if (counts.seeders > 0)
    return {
      code: 'healthy',
      ok: true,
      text: `${reachable}, ${plural(counts.seeders, 'seeder')}; the download should start.`,
    };
  const total = report.pieceCount ?? 0;
  const available = report.piecesAvailable ?? 0;
  if (total > 0 && available >= total)
    return {
      code: 'complete-without-seeder',
      ok: true,
      text: `${reachable}, no seeder, but together they have every piece; the download should complete, more slowly.`,
    };
  const share = total === 0 ? 0 : (available / total) * 100;
  return {
    code: 'no-seeder',
    ok: false,
    text: `${reachable}, but no seeder is reachable: the reachable peers have ${share.toFixed(1)}% of the torrent in total (${available} of ${total} pieces), so the download would stall there.`,
  };
}

function notAvailableNote(report: DoctorReport): string {
  const missing = report.sources
    .filter((s) => s.status === 'not-available' || s.status === 'not-used')
    .map(
      (s) =>
        `${s.label} ${s.note ?? (s.status === 'not-used' ? 'not used' : 'not available in this version')}`,
    );
  return missing.length === 0 ? '' : ` (${missing.join('; ')})`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
