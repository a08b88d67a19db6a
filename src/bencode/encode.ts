import { LodestoneError } from '../errors.js';
import type { Encodable } from './types.js';

const textEncoder = new TextEncoder();

/**
 * Encodes to canonical bencode: dictionary keys sorted by raw bytes. Strings
 * are encoded as UTF-8; integers must be safe integers or bigints.
 */
export function encode(value: Encodable): Buffer {
  const parts: Uint8Array[] = [];
  write(value, parts, 0);
  return Buffer.concat(parts);
}

function write(value: Encodable, parts: Uint8Array[], depth: number): void {
  if (depth > 256) throw new LodestoneError('LODESTONE_ERR_BENCODE', 'value nested too deeply to encode');
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) {
      throw new LodestoneError('LODESTONE_ERR_BENCODE', `cannot encode non-integer ${value}`);
    }
    parts.push(textEncoder.encode(`i${value}e`));
  } else if (typeof value === 'bigint') {
    parts.push(textEncoder.encode(`i${value}e`));
  } else if (typeof value === 'string') {
    const bytes = textEncoder.encode(value);
    parts.push(textEncoder.encode(`${bytes.length}:`), bytes);
  } else if (value instanceof Uint8Array) {
    parts.push(textEncoder.encode(`${value.length}:`), value);
  } else if (Array.isArray(value)) {
    parts.push(textEncoder.encode('l'));
    for (const item of value as readonly Encodable[]) write(item, parts, depth + 1);
    parts.push(textEncoder.encode('e'));
  } else {
    const entries: [Buffer, Encodable][] = [];
    const source =
      value instanceof Map
        ? [...value.entries()]
        : Object.entries(value as Record<string, Encodable | undefined>);
    for (const [key, item] of source) {
      if (item === undefined) continue;
      // Map keys come from the decoder as latin1; object keys are written by us as text.
      entries.push([Buffer.from(key, value instanceof Map ? 'latin1' : 'utf8'), item]);
    }
    entries.sort((a, b) => Buffer.compare(a[0], b[0]));
    parts.push(textEncoder.encode('d'));
    for (const [key, item] of entries) {
      parts.push(textEncoder.encode(`${key.length}:`), key);
      write(item, parts, depth + 1);
    }
    parts.push(textEncoder.encode('e'));
  }
}
