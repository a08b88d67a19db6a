import { type BencodeValue, decode, getBytes, getInt, getList, getText, isDict } from '../bencode/index.js';
import { TrackerError } from '../errors.js';
import {
  collectCompactPeers,
  normalizePeer,
  PeerCollector,
  sanitizeCount,
  sanitizeInterval,
  sanitizeMinInterval,
  sanitizeTrackerText,
} from './announce-common.js';
import type { AnnounceRequest, AnnounceResponse } from './types.js';

/** Used when the request does not say how many peers it wants. */
export const DEFAULT_NUMWANT = 50;

/**
 * Percent-encodes raw bytes for a query string: every byte outside the RFC 3986
 * unreserved set becomes %XX. Info-hashes and peer ids are binary, so they must
 * never go through a text encoder first.
 */
export function percentEncodeBytes(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) {
    const isUnreserved =
      (byte >= 0x30 && byte <= 0x39) || // 0-9
      (byte >= 0x41 && byte <= 0x5a) || // A-Z
      (byte >= 0x61 && byte <= 0x7a) || // a-z
      byte === 0x2d || // -
      byte === 0x2e || // .
      byte === 0x5f || // _
      byte === 0x7e; // ~
    out += isUnreserved ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function counter(value: number): string {
  // Byte counters are unsigned integers on the wire; a bad value must not produce "NaN" or "1e+21".
  return Number.isFinite(value) && value > 0 ? BigInt(Math.floor(value)).toString() : '0';
}

/**
 * The full announce URL (BEP 3, BEP 23 compact). `trackerId` is the raw
 * `tracker id` a previous answer gave, as a binary (latin1) string.
 */
export function buildAnnounceUrl(base: string, request: AnnounceRequest, trackerId?: string): string {
  const hashAt = base.indexOf('#');
  const withoutFragment = hashAt === -1 ? base : base.slice(0, hashAt);
  const params = [
    `info_hash=${percentEncodeBytes(request.infoHash)}`,
    `peer_id=${percentEncodeBytes(request.peerId)}`,
    `port=${Math.max(0, Math.min(65535, Math.floor(request.port) || 0))}`,
    `uploaded=${counter(request.uploaded)}`,
    `downloaded=${counter(request.downloaded)}`,
    `left=${counter(request.left)}`,
    'compact=1',
    `numwant=${Math.max(0, Math.floor(request.numwant ?? DEFAULT_NUMWANT) || 0)}`,
    `key=${(request.key >>> 0).toString(16).padStart(8, '0')}`,
  ];
  if (request.event) params.push(`event=${request.event}`);
  if (trackerId !== undefined)
    params.push(`trackerid=${percentEncodeBytes(Buffer.from(trackerId, 'latin1'))}`);
  const query = params.join('&');
  if (!withoutFragment.includes('?')) return `${withoutFragment}?${query}`;
  const endsWithSeparator = withoutFragment.endsWith('?') || withoutFragment.endsWith('&');
  return `${withoutFragment}${endsWithSeparator ? '' : '&'}${query}`;
}

/** BEP 3 original model: a list of dictionaries with `ip` (text) and `port`. */
function collectPeerDicts(list: BencodeValue[], into: PeerCollector): void {
  for (const dict of list) {
    if (!isDict(dict)) continue;
    const host = getText(dict, 'ip');
    const port = getInt(dict, 'port');
    if (host === undefined || port === undefined) continue;
    // Host names are allowed by BEP 3 but we only dial literals; resolving them would let a tracker aim us anywhere.
    if (!into.add(normalizePeer(host.trim(), port))) return;
  }
}

/**
 * The `failure reason` of a body, if it is a bencoded dictionary carrying one.
 * Trackers often send it with a 4xx status, where it says more than the status.
 */
export function failureReasonOf(body: Uint8Array): string | undefined {
  try {
    const root = decode(body, { lenient: true, maxDepth: 8 });
    if (!isDict(root)) return undefined;
    const reason = getText(root, 'failure reason');
    return reason === undefined ? undefined : sanitizeTrackerText(reason);
  } catch {
    return undefined;
  }
}

/**
 * Decodes an HTTP tracker's bencoded answer. Throws TrackerError for a
 * `failure reason`, a body that is not a bencoded dictionary, or nothing else:
 * unusable fields are dropped, never fatal.
 */
export function parseHttpAnnounceResponse(body: Uint8Array): AnnounceResponse {
  let root: BencodeValue;
  try {
    // Lenient: plenty of trackers emit unsorted keys; we only read, never re-hash.
    root = decode(body, { lenient: true, maxDepth: 8 });
  } catch (error) {
    throw new TrackerError(`tracker response is not bencoded (${(error as Error).message})`, {
      cause: error,
    });
  }
  if (!isDict(root)) throw new TrackerError('tracker response is not a bencoded dictionary');

  const failure = getText(root, 'failure reason');
  if (failure !== undefined) throw new TrackerError(`tracker failure: ${sanitizeTrackerText(failure)}`);

  // Distinct peers, at most MAX_PEERS_PER_ANSWER: whatever the list length, nothing is spread.
  const peers = new PeerCollector();
  const compact = getBytes(root, 'peers');
  if (compact) collectCompactPeers(compact, 4, peers);
  const dictList = getList(root, 'peers');
  if (dictList) collectPeerDicts(dictList, peers);
  const compact6 = getBytes(root, 'peers6');
  if (compact6) collectCompactPeers(compact6, 6, peers);

  const response: AnnounceResponse = {
    interval: sanitizeInterval(getInt(root, 'interval')),
    peers: peers.peers,
  };
  const minInterval = sanitizeMinInterval(getInt(root, 'min interval'));
  if (minInterval !== undefined) response.minInterval = minInterval;
  const seeders = sanitizeCount(getInt(root, 'complete'));
  if (seeders !== undefined) response.seeders = seeders;
  const leechers = sanitizeCount(getInt(root, 'incomplete'));
  if (leechers !== undefined) response.leechers = leechers;
  const warning = getText(root, 'warning message');
  if (warning !== undefined) response.warning = sanitizeTrackerText(warning);
  const trackerId = getBytes(root, 'tracker id');
  if (trackerId !== undefined && trackerId.length > 0 && trackerId.length <= 256) {
    response.trackerId = Buffer.from(trackerId).toString('latin1');
  }
  return response;
}
