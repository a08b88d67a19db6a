/**
 * Magnet links (BEP 9 §magnet URI format, BEP 53 numbered parameters, BEP 52 `urn:btmh:`).
 *
 * Parameters are read case-insensitively, and numbered forms (`tr.1`, `xt.2`, …)
 * count as their base parameter. Unknown parameters are ignored, and so is
 * malformed percent-encoding inside them; in a parameter we use it is a MagnetError.
 *
 * DECISION on `x.pe` (peer hints): only literal addresses ("1.2.3.4:5", "[::1]:5")
 * are kept. Hostnames are dropped without error: this version never resolves
 * names, and a bad peer hint is no reason to reject a magnet that otherwise works.
 */
import { formatAddress, type PeerAddress, parseAddress } from '../address.js';
import { MagnetError } from '../errors.js';
import { printableName } from './path-safety.js';
import type { MagnetLink, TorrentMetadata } from './types.js';

const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const HEX_HASH = /^[0-9a-f]{40}$/i;
const BASE32_HASH = /^[a-z2-7]{32}$/i;
/** Multihash of a SHA-256 digest: code 0x12, length 0x20, then 32 bytes. */
const SHA256_MULTIHASH = /^1220[0-9a-f]{64}$/i;

/** RFC 4648 base32 without padding; the caller has checked the alphabet and length. */
function decodeBase32(text: string): Buffer {
  const out = Buffer.alloc(Math.floor((text.length * 5) / 8));
  let bits = 0;
  let accumulator = 0;
  let written = 0;
  for (const char of text.toUpperCase()) {
    accumulator = (accumulator << 5) | BASE32_ALPHABET.indexOf(char);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[written++] = (accumulator >>> bits) & 0xff;
    }
  }
  return out;
}

function parseInfoHash(text: string): Buffer {
  if (HEX_HASH.test(text)) return Buffer.from(text, 'hex');
  if (BASE32_HASH.test(text)) return decodeBase32(text);
  throw new MagnetError(
    `bad info-hash "${printableName(text)}" in xt: expected 40 hex or 32 base32 characters`,
  );
}

function parseV2Hash(text: string): string {
  if (SHA256_MULTIHASH.test(text)) return text.toLowerCase();
  throw new MagnetError(
    `bad v2 info-hash "${printableName(text)}" in xt: expected a SHA-256 multihash (1220 and 64 hex characters)`,
  );
}

function decodeParameter(raw: string, key: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new MagnetError(`malformed percent-encoding in magnet parameter '${key}'`);
  }
}

function addUnique(list: string[], value: string): void {
  const trimmed = value.trim();
  if (trimmed !== '' && !list.includes(trimmed)) list.push(trimmed);
}

/** Splits the query into (lower-case base key, raw value) pairs; `tr.1` becomes `tr`. */
function* parameters(query: string): Generator<[string, string]> {
  for (const part of query.split('&')) {
    if (part === '') continue;
    const equals = part.indexOf('=');
    const rawKey = equals === -1 ? part : part.slice(0, equals);
    const rawValue = equals === -1 ? '' : part.slice(equals + 1);
    yield [rawKey.toLowerCase().replace(/\.\d+$/, ''), rawValue];
  }
}

/** Parses a `magnet:?` URI. Throws MagnetError when it is not a usable BitTorrent magnet. */
export function parseMagnet(uri: string): MagnetLink {
  const text = uri.trim();
  if (!/^magnet:\?/i.test(text)) throw new MagnetError('not a magnet link (expected "magnet:?...")');
  let sawXt = false;
  let infoHash: Buffer | undefined;
  let v2Hash: string | undefined;
  let name: string | undefined;
  const trackers: string[] = [];
  const webSeeds: string[] = [];
  const peers = new Map<string, PeerAddress>();

  for (const [key, raw] of parameters(text.slice('magnet:?'.length))) {
    if (key === 'xt') {
      sawXt = true;
      const value = decodeParameter(raw, key);
      const scheme = value.slice(0, 9).toLowerCase();
      if (scheme === 'urn:btih:') {
        const parsed = parseInfoHash(value.slice(9));
        if (infoHash !== undefined && !infoHash.equals(parsed)) {
          throw new MagnetError('magnet link names two different info-hashes');
        }
        infoHash = parsed;
      } else if (scheme === 'urn:btmh:') {
        const parsed = parseV2Hash(value.slice(9));
        if (v2Hash !== undefined && v2Hash !== parsed) {
          throw new MagnetError('magnet link names two different v2 info-hashes');
        }
        v2Hash = parsed;
      }
    } else if (key === 'dn') {
      // Form-style '+' for space is common in display names, never meaningful there otherwise.
      name ??= decodeParameter(raw.replace(/\+/g, '%20'), key);
    } else if (key === 'tr') {
      addUnique(trackers, decodeParameter(raw, key));
    } else if (key === 'ws') {
      addUnique(webSeeds, decodeParameter(raw, key));
    } else if (key === 'x.pe') {
      const address = parseAddress(decodeParameter(raw, key).trim());
      if (address !== undefined) peers.set(formatAddress(address), address);
    }
  }

  if (!sawXt) throw new MagnetError("magnet link has no 'xt' parameter");
  if (infoHash === undefined && v2Hash === undefined) {
    throw new MagnetError('magnet link has no BitTorrent info-hash (xt=urn:btih:… or xt=urn:btmh:…)');
  }
  const link: MagnetLink = { trackers, peers: [...peers.values()], webSeeds };
  if (infoHash !== undefined) {
    link.infoHash = infoHash;
    link.infoHashHex = infoHash.toString('hex');
  }
  if (v2Hash !== undefined) link.v2Hash = v2Hash;
  if (name !== undefined) link.name = name;
  return link;
}

/** encodeURIComponent throws on lone surrogates; replace them as a UTF-8 encoder would. */
function encodeText(text: string): string {
  return encodeURIComponent(
    text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD'),
  );
}

/** Formats a MagnetLink as a URI; `parseMagnet(formatMagnet(link))` gives the link back. */
export function formatMagnet(link: MagnetLink): string {
  const parts: string[] = [];
  const hex = link.infoHashHex ?? link.infoHash?.toString('hex');
  if (hex !== undefined) parts.push(`xt=urn:btih:${hex}`);
  if (link.v2Hash !== undefined) parts.push(`xt=urn:btmh:${link.v2Hash}`);
  if (link.name !== undefined) parts.push(`dn=${encodeText(link.name)}`);
  for (const tracker of link.trackers) parts.push(`tr=${encodeText(tracker)}`);
  for (const webSeed of link.webSeeds) parts.push(`ws=${encodeText(webSeed)}`);
  for (const peer of link.peers) parts.push(`x.pe=${encodeText(formatAddress(peer))}`);
  return `magnet:?${parts.join('&')}`;
}

/** The magnet for a torrent: its v1 info-hash, name, every tracker of every tier, and web seeds. */
export function toMagnetUri(meta: TorrentMetadata): string {
  return formatMagnet({
    infoHash: meta.infoHash,
    infoHashHex: meta.infoHashHex,
    name: meta.name,
    trackers: meta.announceTiers.flat(),
    webSeeds: meta.webSeeds,
    peers: [],
  });
}
