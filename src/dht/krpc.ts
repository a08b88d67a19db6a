/**
 * The KRPC codec (BEP 5, BEP 32 `nodes6`/`want`, BEP 42 `ip`, BEP 43 `ro`): datagrams to typed
 * messages and back. Strict on what we use (ids are 20 bytes, ports 1–65535, compact strings
 * whole multiples), silent about everything else (unknown keys are ignored). Bounded: a datagram
 * over {@link MAX_KRPC_DATAGRAM} bytes is refused before it is parsed, so decoding never holds more
 * than a small multiple of the datagram.
 */
import type { PeerAddress } from '../address.js';
import {
  type BencodeDict,
  type BencodeValue,
  decode,
  encode,
  getBytes,
  getDict,
  getInt,
} from '../bencode/index.js';
import {
  copyBytes,
  decodeCompactNodes,
  decodeCompactPeer,
  encodeCompactNodes,
  encodeCompactPeer,
} from './compact.js';
import { DhtError, malformed } from './errors.js';
import type { KrpcErrorMessage, KrpcMessage, KrpcQuery, KrpcResponse, WantFamily } from './messages.js';
import { ID_BYTES, type NodeId } from './node-id.js';

/** Largest datagram we decode or send: one Ethernet MTU, as every mainline implementation assumes. */
export const MAX_KRPC_DATAGRAM = 1500;
/** Longest transaction id we accept (we send 2 bytes; others send up to 4 or 8). */
export const MAX_TID_BYTES = 16;
/** Longest write token we accept (libtorrent sends 4 bytes, we send 8). */
export const MAX_TOKEN_BYTES = 64;
/** Longest `v` (client version) we keep. */
export const MAX_VERSION_BYTES = 32;
/** Longest method name kept for an unknown query (for logs). */
const MAX_METHOD_NAME = 64;
/** Longest error text kept. */
const MAX_ERROR_TEXT = 256;
/** Most `values` entries read from one reply (1500 bytes hold at most ~185 of 6 bytes). */
export const MAX_VALUES = 200;
/** Most compact nodes read from one `nodes`/`nodes6` (1500 bytes hold at most 57 IPv4 nodes). */
export const MAX_NODES = 64;

const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder('utf-8', { fatal: false });

/**
 * Decodes one datagram. Throws {@link DhtError} (`LODESTONE_ERR_DHT_MALFORMED`) on anything we
 * cannot use; when the datagram was a query whose `t` could be read, the error's `queryTid` is
 * set so the caller may answer with error 203.
 */
export function decodeKrpc(datagram: Uint8Array): KrpcMessage {
  if (datagram.length > MAX_KRPC_DATAGRAM) {
    throw malformed(`datagram of ${datagram.length} bytes, more than ${MAX_KRPC_DATAGRAM}`);
  }
  let root: BencodeValue;
  try {
    // Lenient: some nodes send unsorted keys; depth and item bounds still hold.
    root = decode(datagram, { lenient: true, maxDepth: 16, maxItems: 2048, spanDepth: 0 });
  } catch (error) {
    throw malformed('not a bencoded message', { cause: error });
  }
  if (!(root instanceof Map)) throw malformed('a KRPC message is a dictionary');
  const tidBytes = getBytes(root, 't');
  if (tidBytes === undefined) throw malformed('missing transaction id "t"');
  if (tidBytes.length > MAX_TID_BYTES) throw malformed(`transaction id of ${tidBytes.length} bytes`);
  const tid = copyBytes(tidBytes);
  const y = text(getBytes(root, 'y'));
  const ip = readIp(root);
  const version = getBytes(root, 'v');
  const extra = {
    ...(ip ? { ip } : {}),
    ...(version && version.length <= MAX_VERSION_BYTES ? { version: copyBytes(version) } : {}),
  };
  if (y === 'q') {
    try {
      return decodeQuery(root, tid, version);
    } catch (error) {
      if (error instanceof DhtError) throw malformed(error.message, { queryTid: tid });
      throw error;
    }
  }
  if (y === 'r') return decodeResponse(root, tid, extra);
  if (y === 'e') return decodeError(root, tid, ip);
  throw malformed('"y" is not q, r or e');
}

function text(bytes: Uint8Array | undefined): string | undefined {
  return bytes === undefined ? undefined : latin1.decode(bytes);
}

function readId(dict: BencodeDict, key: string): NodeId {
  const id = getBytes(dict, key);
  if (id === undefined || id.length !== ID_BYTES) throw malformed(`"${key}" is not a 20-byte id`);
  return copyBytes(id);
}

/** BEP 42 top-level `ip`: 6 or 18 compact bytes; any other shape is ignored (it is advisory). */
function readIp(root: BencodeDict): PeerAddress | undefined {
  const bytes = getBytes(root, 'ip');
  return bytes === undefined ? undefined : decodeCompactPeer(bytes);
}

function readWant(args: BencodeDict): WantFamily[] | undefined {
  const want = args.get('want');
  if (!Array.isArray(want)) return undefined;
  const families = new Set<WantFamily>();
  for (const item of want) {
    if (!(item instanceof Uint8Array)) continue;
    const name = latin1.decode(item);
    if (name === 'n4' || name === 'n6') families.add(name);
  }
  return [...families];
}

function decodeQuery(root: BencodeDict, tid: Uint8Array, versionBytes: Uint8Array | undefined): KrpcQuery {
  const methodBytes = getBytes(root, 'q');
  if (methodBytes === undefined) throw malformed('query without method "q"');
  const args = getDict(root, 'a');
  if (args === undefined) throw malformed('query without arguments "a"');
  const base = {
    kind: 'query' as const,
    tid,
    id: readId(args, 'id'),
    readOnly: getInt(root, 'ro') === 1,
    ...(versionBytes && versionBytes.length <= MAX_VERSION_BYTES ? { version: copyBytes(versionBytes) } : {}),
  };
  const method = latin1.decode(methodBytes.subarray(0, MAX_METHOD_NAME));
  const want = readWant(args);
  switch (methodBytes.length <= MAX_METHOD_NAME ? method : '') {
    case 'ping':
      return { ...base, method: 'ping' };
    case 'find_node':
      return { ...base, method: 'find_node', target: readId(args, 'target'), ...(want ? { want } : {}) };
    case 'get_peers':
      return { ...base, method: 'get_peers', infoHash: readId(args, 'info_hash'), ...(want ? { want } : {}) };
    case 'announce_peer': {
      const impliedPort = (getInt(args, 'implied_port') ?? 0) !== 0;
      const port = getInt(args, 'port');
      const validPort = port !== undefined && port >= 1 && port <= 65535;
      if (!validPort && !impliedPort) throw malformed('announce_peer without a valid "port"');
      const token = getBytes(args, 'token');
      if (token === undefined || token.length > MAX_TOKEN_BYTES)
        throw malformed('announce_peer without a valid "token"');
      return {
        ...base,
        method: 'announce_peer',
        infoHash: readId(args, 'info_hash'),
        port: validPort ? port : 0,
        impliedPort,
        token: copyBytes(token),
      };
    }
    default:
      return { ...base, method: 'unknown', name: printable(method) };
  }
}

function decodeResponse(
  root: BencodeDict,
  tid: Uint8Array,
  extra: { ip?: PeerAddress; version?: Uint8Array },
): KrpcResponse {
  const r = getDict(root, 'r');
  if (r === undefined) throw malformed('response without "r"');
  const response: KrpcResponse = { kind: 'response', tid, id: readId(r, 'id'), ...extra };
  const nodes = r.get('nodes');
  if (nodes !== undefined) {
    if (!(nodes instanceof Uint8Array)) throw malformed('"nodes" is not a string');
    response.nodes = decodeCompactNodes(nodes, 4, MAX_NODES);
  }
  const nodes6 = r.get('nodes6');
  if (nodes6 !== undefined) {
    if (!(nodes6 instanceof Uint8Array)) throw malformed('"nodes6" is not a string');
    response.nodes6 = decodeCompactNodes(nodes6, 6, MAX_NODES);
  }
  const values = r.get('values');
  if (values !== undefined) {
    if (!Array.isArray(values)) throw malformed('"values" is not a list');
    if (values.length > MAX_VALUES) throw malformed(`${values.length} "values", more than ${MAX_VALUES}`);
    // IPv4 (6 bytes) and IPv6 (18 bytes) entries may mix; anything else is skipped, as libtorrent does.
    response.values = values.flatMap((item) => {
      const peer = item instanceof Uint8Array ? decodeCompactPeer(item) : undefined;
      return peer ? [peer] : [];
    });
  }
  const token = r.get('token');
  if (token !== undefined) {
    if (!(token instanceof Uint8Array) || token.length > MAX_TOKEN_BYTES) throw malformed('bad "token"');
    response.token = copyBytes(token);
  }
  return response;
}

function decodeError(root: BencodeDict, tid: Uint8Array, ip: PeerAddress | undefined): KrpcErrorMessage {
  const e = root.get('e');
  if (!Array.isArray(e) || typeof e[0] !== 'number') throw malformed('error without [code, message] "e"');
  const message =
    e[1] instanceof Uint8Array ? printable(utf8.decode(e[1].subarray(0, MAX_ERROR_TEXT * 4))) : '';
  return { kind: 'error', tid, code: e[0], message: message.slice(0, MAX_ERROR_TEXT), ...(ip ? { ip } : {}) };
}

/** Control characters become spaces: a remote text must not forge log lines. */
function printable(value: string): string {
  return value.replace(/[\u0000-\u001f\u007f]/g, ' ');
}

/** Encodes a message as the bencoded datagram to send (keys sorted, as bencode requires). */
export function encodeKrpc(message: KrpcMessage): Uint8Array {
  const root = new Map<string, Parameters<typeof encode>[0]>();
  root.set('t', message.tid);
  if (message.kind === 'query') {
    root.set('y', 'q');
    const args = new Map<string, Parameters<typeof encode>[0]>([['id', message.id]]);
    switch (message.method) {
      case 'ping':
        root.set('q', 'ping');
        break;
      case 'find_node':
        root.set('q', 'find_node');
        args.set('target', message.target);
        if (message.want) args.set('want', message.want);
        break;
      case 'get_peers':
        root.set('q', 'get_peers');
        args.set('info_hash', message.infoHash);
        if (message.want) args.set('want', message.want);
        break;
      case 'announce_peer':
        root.set('q', 'announce_peer');
        args.set('info_hash', message.infoHash);
        if (message.impliedPort) args.set('implied_port', 1);
        args.set('port', message.port);
        args.set('token', message.token);
        break;
      case 'unknown':
        root.set('q', message.name);
        break;
    }
    root.set('a', args);
    if (message.readOnly) root.set('ro', 1);
    if (message.version) root.set('v', message.version);
  } else if (message.kind === 'response') {
    root.set('y', 'r');
    const r = new Map<string, Parameters<typeof encode>[0]>([['id', message.id]]);
    if (message.nodes) r.set('nodes', encodeCompactNodes(message.nodes, 4));
    if (message.nodes6) r.set('nodes6', encodeCompactNodes(message.nodes6, 6));
    if (message.values) r.set('values', message.values.map(encodeCompactPeer));
    if (message.token) r.set('token', message.token);
    root.set('r', r);
    if (message.ip) root.set('ip', encodeCompactPeer(message.ip));
    if (message.version) root.set('v', message.version);
  } else {
    root.set('y', 'e');
    root.set('e', [message.code, message.message]);
    if (message.ip) root.set('ip', encodeCompactPeer(message.ip));
  }
  return encode(root);
}
