/**
 * The routing table saved between runs, as bytes (the file itself is the caller's: this module
 * only encodes and decodes). Format, bencoded:
 * `{ "id": <20 bytes>, "nodes": <compact IPv4 node info>, "nodes6": <compact IPv6 node info>,
 *    "saved-at": <milliseconds since the Unix epoch> }`.
 * Decoding refuses anything it cannot fully trust with a {@link DhtError} coded
 * `LODESTONE_ERR_DHT_STATE` (the caller logs a warning and starts with an empty table); at most
 * {@link MAX_STATE_NODES} nodes are written or read.
 */
import { type BencodeValue, decode, encode, getBytes, getInt } from '../bencode/index.js';
import { decodeCompactNodes, encodeCompactNodes, ipFamily, nodeInfoBytes } from './compact.js';
import { DhtError } from './errors.js';
import type { NodeContact } from './messages.js';
import { ID_BYTES, type NodeId } from './node-id.js';

/** Most nodes saved (a full routing table holds ~160 buckets × 8 = 1280, with replacements more). */
export const MAX_STATE_NODES = 2000;
/** Largest state we read: every node IPv6, plus the keys. */
export const MAX_STATE_BYTES = MAX_STATE_NODES * nodeInfoBytes(6) + 256;

export interface DhtState {
  /** Our node id. */
  id: NodeId;
  /** Nodes of both families, best first (only the first {@link MAX_STATE_NODES} are kept). */
  nodes: NodeContact[];
  /** When it was saved, milliseconds since the Unix epoch. */
  savedAt: number;
}

function stateError(message: string, cause?: unknown): DhtError {
  return new DhtError(
    `DHT state: ${message}`,
    'LODESTONE_ERR_DHT_STATE',
    cause === undefined ? {} : { cause },
  );
}

/**
 * The bytes to save. Contacts that cannot be written (not a literal IP, bad port or id) are left
 * out; beyond {@link MAX_STATE_NODES}, the rest are dropped.
 */
export function encodeDhtState(state: DhtState): Uint8Array {
  if (state.id.length !== ID_BYTES) throw stateError(`our id has ${state.id.length} bytes`);
  if (!Number.isSafeInteger(state.savedAt) || state.savedAt < 0)
    throw stateError(`bad saved-at ${state.savedAt}`);
  const v4: NodeContact[] = [];
  const v6: NodeContact[] = [];
  for (const node of state.nodes) {
    if (v4.length + v6.length >= MAX_STATE_NODES) break;
    const family = ipFamily(node.host);
    if (family === undefined || node.id.length !== ID_BYTES) continue;
    if (!Number.isInteger(node.port) || node.port < 1 || node.port > 65535) continue;
    (family === 4 ? v4 : v6).push(node);
  }
  return encode({
    id: state.id,
    nodes: encodeCompactNodes(v4, 4),
    nodes6: encodeCompactNodes(v6, 6),
    'saved-at': state.savedAt,
  });
}

/** Reads saved state; throws {@link DhtError} (`LODESTONE_ERR_DHT_STATE`) on anything corrupt. */
export function decodeDhtState(bytes: Uint8Array): DhtState {
  if (bytes.length > MAX_STATE_BYTES) throw stateError(`${bytes.length} bytes, more than ${MAX_STATE_BYTES}`);
  let root: BencodeValue;
  try {
    root = decode(bytes, { maxDepth: 4, maxItems: 64, spanDepth: 0 });
  } catch (error) {
    throw stateError('not bencoded', error);
  }
  if (!(root instanceof Map)) throw stateError('not a dictionary');
  const id = getBytes(root, 'id');
  if (id === undefined || id.length !== ID_BYTES) throw stateError('no 20-byte "id"');
  const savedAt = getInt(root, 'saved-at');
  if (savedAt === undefined || savedAt < 0) throw stateError('no "saved-at"');
  const nodes: NodeContact[] = [];
  for (const [key, family] of [
    ['nodes', 4],
    ['nodes6', 6],
  ] as const) {
    const value = root.get(key);
    if (value === undefined) continue;
    if (!(value instanceof Uint8Array)) throw stateError(`"${key}" is not a string`);
    try {
      nodes.push(...decodeCompactNodes(value, family, MAX_STATE_NODES));
    } catch (error) {
      throw stateError(`"${key}" is corrupt`, error);
    }
  }
  if (nodes.length > MAX_STATE_NODES) throw stateError(`${nodes.length} nodes, more than ${MAX_STATE_NODES}`);
  return { id: Uint8Array.from(id), nodes, savedAt };
}
