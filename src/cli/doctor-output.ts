import type { DoctorPeer, DoctorReport, DoctorSource, DoctorVerdict } from '../index.js';
import { formatDurationMs } from '../index.js';
import { terminalText } from './terminal-text.js';

/** Rows of the peer table shown; the rest are summed up in one line (JSON has them all). */
const MAX_PEER_ROWS = 50;

/** The human report of `lodestone doctor`: sources, a peer table, the verdict. Escaped for terminals. */
export function formatDoctorReport(report: DoctorReport, verdict: DoctorVerdict): string {
  const lines: string[] = [];
  const what =
    report.kind === 'torrent' ? `torrent, ${report.pieceCount ?? 0} pieces` : 'magnet link, metadata unknown';
  lines.push(
    `doctor: ${report.name ?? '(no name)'} (${report.infoHash}), ${what}; probed for ${seconds(report.durationMs)} (limit ${formatDurationMs(report.timeLimitMs)})`,
    '',
    'Sources',
  );
  const width = Math.min(60, Math.max(8, ...report.sources.map((s) => sourceName(s).length)));
  for (const source of report.sources)
    lines.push(`  ${sourceName(source).padEnd(width)}  ${sourceResult(source)}`);
  lines.push('', `Peers (${report.peers.length} found)`);
  if (report.peers.length > 0) {
    const rows = report.peers.slice(0, MAX_PEER_ROWS).map(peerRow);
    const header = ['ADDRESS', 'RESULT', 'TRANSPORT', 'ENCRYPTION', 'CLIENT', 'HAS'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]): string =>
      `  ${cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')}`;
    lines.push(line(header), ...rows.map(line));
    if (report.peers.length > MAX_PEER_ROWS)
      lines.push(`  … ${report.peers.length - MAX_PEER_ROWS} more (see --json)`);
    const failed = report.peers.filter((p) => p.failure && p.message);
    if (failed.length > 0) {
      lines.push('', 'Failures');
      for (const peer of failed.slice(0, 10)) lines.push(`  ${peer.address}: ${peer.message}`);
      if (failed.length > 10) lines.push(`  … ${failed.length - 10} more`);
    }
  }
  lines.push('', `Verdict: ${verdict.text}`);
  return lines.map(terminalText).join('\n');
}

function sourceName(source: DoctorSource): string {
  return source.kind === 'tracker' ? `tracker ${source.label}` : source.label;
}

function sourceResult(source: DoctorSource): string {
  switch (source.status) {
    case 'not-available':
      return source.note ?? 'not available in this version (did not run)';
    case 'not-used':
      return source.note ?? 'not used';
    case 'no-answer':
      return source.error ?? 'no answer in time';
    case 'failed':
      return `failed: ${source.error ?? 'unknown error'}`;
    case 'answered': {
      const details = [
        ...(source.nodesReached !== undefined ? [`${source.nodesReached} nodes reached`] : []),
        ...(source.queries !== undefined ? [`${source.queries} queries`] : []),
        ...(source.rounds !== undefined ? [`${source.rounds} rounds`] : []),
        ...(source.seeders !== undefined ? [`${source.seeders} seeders`] : []),
        ...(source.leechers !== undefined ? [`${source.leechers} leechers`] : []),
        ...(source.intervalSeconds !== undefined ? [`interval ${source.intervalSeconds}s`] : []),
        ...(source.latencyMs !== undefined ? [`${source.latencyMs} ms`] : []),
        ...(source.warning !== undefined ? [`warning: ${source.warning}`] : []),
      ];
      const peers = `${source.peers} peer${source.peers === 1 ? '' : 's'}`;
      const verb = source.kind === 'tracker' ? 'answered' : source.kind === 'dht' ? 'found' : 'listed';
      return `${verb}: ${peers}${details.length > 0 ? ` (${details.join(', ')})` : ''}`;
    }
  }
}

function peerRow(peer: DoctorPeer): string[] {
  const result = peer.failure ?? 'ok';
  return [
    peer.address,
    peer.handshake && peer.failure ? `${result} (after handshake)` : result,
    peer.transport ?? '-',
    peer.encryption ?? '-',
    (peer.client ?? '-').slice(0, 30),
    has(peer),
  ];
}

function has(peer: DoctorPeer): string {
  const parts: string[] = [];
  if (peer.seeder) parts.push('seeder');
  else if (peer.piecesHave !== undefined && peer.pieceCount)
    parts.push(`${((peer.piecesHave / peer.pieceCount) * 100).toFixed(1)}% of pieces`);
  else if (peer.piecesHave !== undefined) parts.push(`${peer.piecesHave} pieces`);
  if (peer.hasMetadata === true) parts.push('metadata');
  else if (peer.hasMetadata === false) parts.push('no metadata');
  return parts.length > 0 ? parts.join(', ') : '-';
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}
