import { type Encodable, encode } from '../bencode/index.js';

export interface TorrentFileExtras {
  announceTiers?: string[][];
  webSeeds?: string[];
  createdBy?: string;
  creationDate?: Date;
  comment?: string;
}

/**
 * A .torrent file around raw info bytes (e.g. fetched over BEP 9). The info
 * dictionary is spliced in byte for byte, never re-encoded, so the file's
 * info-hash is exactly the one the bytes were verified against.
 */
export function buildTorrentFile(infoBytes: Uint8Array, extras: TorrentFileExtras = {}): Buffer {
  const tiers = (extras.announceTiers ?? []).filter((tier) => tier.length > 0);
  const fields = new Map<string, Encodable | Uint8Array>();
  if (tiers.length > 0) fields.set('announce', tiers[0]![0]!);
  if (tiers.length > 1 || (tiers[0]?.length ?? 0) > 1) fields.set('announce-list', tiers);
  if (extras.comment) fields.set('comment', extras.comment);
  if (extras.createdBy) fields.set('created by', extras.createdBy);
  if (extras.creationDate) fields.set('creation date', Math.floor(extras.creationDate.getTime() / 1000));
  if (extras.webSeeds && extras.webSeeds.length > 0) fields.set('url-list', extras.webSeeds);
  const keys = [...fields.keys(), 'info'].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const parts: Uint8Array[] = [Buffer.from('d')];
  for (const key of keys) {
    parts.push(Buffer.from(`${Buffer.byteLength(key)}:${key}`));
    parts.push(key === 'info' ? infoBytes : encode(fields.get(key) as Encodable));
  }
  parts.push(Buffer.from('e'));
  return Buffer.concat(parts);
}
