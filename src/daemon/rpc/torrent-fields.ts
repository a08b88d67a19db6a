/**
 * A {@link DaemonTorrent} as Transmission's `torrent-get` shows it (RPC version 17 field names,
 * numbers and units). Pure: each field is computed from the torrent's views only when asked for,
 * so a `transmission-remote -l` does not build file or peer lists. Unknown field names are
 * skipped, as Transmission does.
 */
import type { DaemonTorrent, FilePriority, LimitMode, TorrentStatus, TorrentSummary } from '../daemon-api.js';

const STATUS: Record<TorrentStatus, number> = {
  stopped: 0,
  'check-wait': 1,
  checking: 2,
  'download-wait': 3,
  downloading: 4,
  'seed-wait': 5,
  seeding: 6,
};

/** Transmission's priorities: low −1, normal 0, high 1. */
export const PRIORITY_NUMBER: Record<FilePriority, number> = { low: -1, normal: 0, high: 1 };
/** Transmission's ratio/idle modes: 0 global, 1 single, 2 unlimited. */
export const MODE_NUMBER: Record<LimitMode, number> = { global: 0, single: 1, unlimited: 2 };

const ERROR_NUMBER = { 'tracker-warning': 1, 'tracker-error': 2, local: 3 } as const;

/** Transmission's kB for speeds: 1000 bytes. */
export const SPEED_K = 1000;

/** Whether the torrent counts as stalled: active, but nobody has sent or taken data lately. */
function isStalled(s: TorrentSummary): boolean {
  const active = s.status === 'downloading' || s.status === 'seeding';
  return (
    active && s.rateDownload === 0 && s.rateUpload === 0 && s.peersSendingToUs + s.peersGettingFromUs === 0
  );
}

function ratio(s: TorrentSummary): number {
  // Transmission: TR_RATIO_NA (−1) with nothing downloaded and nothing uploaded, TR_RATIO_INF (−2) for uploads from a seed.
  if (s.downloadedEver > 0) return s.uploadedEver / s.downloadedEver;
  return s.uploadedEver > 0 ? -2 : -1;
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** Scalar fields: computed from the summary alone. */
const SCALAR: Record<string, (s: TorrentSummary) => unknown> = {
  id: (s) => s.id,
  name: (s) => s.name,
  hashString: (s) => s.hash,
  status: (s) => STATUS[s.status],
  error: (s) => (s.error === undefined ? 0 : ERROR_NUMBER[s.error.kind]),
  errorString: (s) => s.error?.message ?? '',
  percentDone: (s) => s.percentDone,
  sizeWhenDone: (s) => s.sizeWhenDone,
  leftUntilDone: (s) => s.leftUntilDone,
  totalSize: (s) => s.totalSize,
  haveValid: (s) => s.haveValid,
  haveUnchecked: () => 0,
  desiredAvailable: (s) => s.leftUntilDone,
  rateDownload: (s) => Math.round(s.rateDownload),
  rateUpload: (s) => Math.round(s.rateUpload),
  eta: (s) => Math.round(s.eta),
  etaIdle: () => -1,
  peersConnected: (s) => s.peersConnected,
  peersSendingToUs: (s) => s.peersSendingToUs,
  peersGettingFromUs: (s) => s.peersGettingFromUs,
  webseedsSendingToUs: () => 0,
  uploadedEver: (s) => s.uploadedEver,
  downloadedEver: (s) => s.downloadedEver,
  corruptEver: (s) => s.corruptEver,
  uploadRatio: ratio,
  addedDate: (s) => s.addedDate,
  doneDate: (s) => s.doneDate,
  activityDate: (s) => s.activityDate,
  startDate: (s) => s.startDate,
  editDate: () => 0,
  manualAnnounceTime: () => -1,
  downloadDir: (s) => s.downloadDir,
  isFinished: (s) => s.isFinished,
  isPrivate: (s) => s.isPrivate,
  isStalled,
  magnetLink: (s) => s.magnetLink,
  comment: (s) => s.comment,
  creator: (s) => s.creator,
  dateCreated: (s) => s.dateCreated,
  pieceCount: (s) => s.pieceCount,
  pieceSize: (s) => s.pieceSize,
  metadataPercentComplete: (s) => s.metadataProgress,
  recheckProgress: (s) => s.recheckProgress,
  queuePosition: (s) => s.queuePosition,
  labels: (s) => [...s.settings.labels],
  seedRatioLimit: (s) => s.settings.seedRatioLimit,
  seedRatioMode: (s) => MODE_NUMBER[s.settings.seedRatioMode],
  seedIdleLimit: (s) => s.settings.seedIdleLimit,
  seedIdleMode: (s) => MODE_NUMBER[s.settings.seedIdleMode],
  downloadLimit: (s) => Math.round((s.settings.downloadLimit ?? 0) / SPEED_K),
  downloadLimited: (s) => s.settings.downloadLimit !== undefined,
  uploadLimit: (s) => Math.round((s.settings.uploadLimit ?? 0) / SPEED_K),
  uploadLimited: (s) => s.settings.uploadLimit !== undefined,
  honorsSessionLimits: (s) => s.settings.honorsSessionLimits,
  bandwidthPriority: (s) => PRIORITY_NUMBER[s.settings.bandwidthPriority],
  'peer-limit': (s) => s.settings.peerLimit,
  maxConnectedPeers: (s) => s.settings.peerLimit,
  sequentialDownload: (s) => s.settings.sequential,
  // Lodestone keeps no per-torrent time counters or web seeds in the contract yet.
  secondsDownloading: () => 0,
  secondsSeeding: () => 0,
  webseeds: () => [],
  torrentFile: () => '',
};

/** Fields that need the torrent's heavier views. */
const VIEW: Record<string, (t: DaemonTorrent) => unknown> = {
  files: (t) => t.files().map((f) => ({ bytesCompleted: f.bytesCompleted, length: f.length, name: f.name })),
  fileStats: (t) =>
    t.files().map((f) => ({
      bytesCompleted: f.bytesCompleted,
      priority: PRIORITY_NUMBER[f.priority],
      wanted: f.wanted,
    })),
  priorities: (t) => t.files().map((f) => PRIORITY_NUMBER[f.priority]),
  wanted: (t) => t.files().map((f) => (f.wanted ? 1 : 0)),
  pieces: (t) => base64(t.pieces()),
  peers: (t) =>
    t.peers().map((p) => ({
      address: p.address,
      clientName: p.clientName,
      clientIsChoked: p.clientIsChoked,
      clientIsInterested: p.clientIsInterested,
      flagStr: peerFlags(p),
      isDownloadingFrom: p.rateToClient > 0,
      isEncrypted: p.isEncrypted,
      isIncoming: p.isIncoming,
      isUploadingTo: p.rateToPeer > 0,
      isUTP: p.isUtp,
      peerIsChoked: p.peerIsChoked,
      peerIsInterested: p.peerIsInterested,
      port: p.port,
      progress: p.progress,
      rateToClient: Math.round(p.rateToClient),
      rateToPeer: Math.round(p.rateToPeer),
    })),
  // Where peers came from is not tracked by the contract: only incoming connections are known.
  peersFrom: (t) => ({
    fromCache: 0,
    fromDht: 0,
    fromIncoming: t.peers().filter((p) => p.isIncoming).length,
    fromLpd: 0,
    fromLtep: 0,
    fromPex: 0,
    fromTracker: 0,
  }),
  trackers: (t) =>
    t.trackers().map((tr) => ({ announce: tr.announce, id: tr.id, scrape: '', tier: tr.tier, sitename: '' })),
  trackerStats: (t) =>
    t.trackers().map((tr) => ({
      announce: tr.announce,
      // Transmission's announce states: 0 inactive, 1 waiting (a next announce is scheduled).
      announceState: tr.nextAnnounceTime > 0 ? 1 : 0,
      downloadCount: tr.downloadCount,
      hasAnnounced: tr.lastAnnounceTime > 0,
      // No scrapes: the seeder and leecher counts come from the announce answers, shown as Transmission shows scrapes.
      hasScraped: tr.lastAnnounceSucceeded && tr.seederCount >= 0,
      host: tr.host,
      id: tr.id,
      isBackup: false,
      lastAnnouncePeerCount: tr.lastAnnouncePeerCount,
      lastAnnounceResult: tr.lastAnnounceResult,
      lastAnnounceStartTime: tr.lastAnnounceTime,
      lastAnnounceSucceeded: tr.lastAnnounceSucceeded,
      lastAnnounceTime: tr.lastAnnounceTime,
      lastAnnounceTimedOut: false,
      lastScrapeResult: '',
      lastScrapeStartTime: 0,
      lastScrapeSucceeded: tr.lastAnnounceSucceeded && tr.seederCount >= 0,
      lastScrapeTime: tr.lastAnnounceTime,
      lastScrapeTimedOut: false,
      leecherCount: tr.leecherCount,
      nextAnnounceTime: tr.nextAnnounceTime,
      nextScrapeTime: 0,
      scrape: '',
      scrapeState: 0,
      seederCount: tr.seederCount,
      tier: tr.tier,
    })),
};

/** Transmission's one-letter peer flags (the subset the contract can tell). */
function peerFlags(p: {
  clientIsChoked: boolean;
  clientIsInterested: boolean;
  peerIsChoked: boolean;
  peerIsInterested: boolean;
  isEncrypted: boolean;
  isUtp: boolean;
  isIncoming: boolean;
  rateToClient: number;
  rateToPeer: number;
}): string {
  let flags = '';
  if (p.isUtp) flags += 'T';
  if (p.rateToClient > 0) flags += 'D';
  else if (p.clientIsInterested) flags += 'd';
  if (p.rateToPeer > 0) flags += 'U';
  else if (p.peerIsInterested) flags += 'u';
  if (!p.clientIsChoked && !p.clientIsInterested) flags += 'K';
  if (!p.peerIsChoked && !p.peerIsInterested) flags += '?';
  if (p.isEncrypted) flags += 'E';
  if (p.isIncoming) flags += 'I';
  return flags;
}

/** Whether `name` is a torrent-get field this server answers. */
export function isTorrentField(name: string): boolean {
  return Object.hasOwn(SCALAR, name) || Object.hasOwn(VIEW, name);
}

/** Every torrent-get field this server answers. */
export const TORRENT_FIELDS: readonly string[] = [...Object.keys(SCALAR), ...Object.keys(VIEW)];

/** The known fields among `fields`, in order, without repeats (unknown names are skipped). */
export function knownFields(fields: readonly string[]): string[] {
  return [...new Set(fields.filter(isTorrentField))];
}

/** The torrent's values of `fields` (which must be known fields), in order. */
export function torrentValues(torrent: DaemonTorrent, fields: readonly string[]): unknown[] {
  let summary: TorrentSummary | undefined;
  return fields.map((field) => {
    const view = VIEW[field];
    if (view !== undefined && Object.hasOwn(VIEW, field)) return view(torrent);
    summary ??= torrent.summary();
    return (SCALAR[field] as (s: TorrentSummary) => unknown)(summary);
  });
}

/** The torrent as a `torrent-get` object with the given known fields. */
export function torrentObject(torrent: DaemonTorrent, fields: readonly string[]): Record<string, unknown> {
  const values = torrentValues(torrent, fields);
  const entry: Record<string, unknown> = {};
  fields.forEach((field, i) => {
    entry[field] = values[i];
  });
  return entry;
}
