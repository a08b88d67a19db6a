/**
 * Compact encodings of BEP 5 and BEP 32: peer info (IPv4 4+2 = 6 bytes, IPv6 16+2 = 18 bytes)
 * and node info (20-byte id + peer info: 26 bytes IPv4, 38 bytes IPv6). Pure; a length that is
 * not a multiple of the entry size, or more entries than the caller allows, is a DhtError.
 */
import { addressBytes, formatIpBytes, type PeerAddress } from '../address.js';
import { malformed } from './errors.js';
import type { NodeContact } from './messages.js';
import { ID_BYTES } from './node-id.js';

export type IpFamily = 4 | 6;

/** The shared formatter (src/address.ts), under the name the DHT modules and tests use. */
export { formatIpBytes as formatIp };

/**
 * A plain Uint8Array copy (never a Buffer view: `Buffer#slice` does not copy), so a decoded message
 * does not keep the datagram's memory alive.
 */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  out.set(bytes);
  return out;
}

/** Bytes of one compact peer (address + port). */
export function peerInfoBytes(family: IpFamily): number {
  return family === 4 ? 6 : 18;
}
/** Bytes of one compact node (id + address + port). */
export function nodeInfoBytes(family: IpFamily): number {
  return ID_BYTES + peerInfoBytes(family);
}

/** The family of a literal address (4 or 6), or undefined when `host` is not a literal IP. */
export function ipFamily(host: string): IpFamily | undefined {
  const bytes = addressBytes(host);
  if (bytes === undefined) return undefined;
  return bytes.length === 4 ? 4 : 6;
}

function writePeer(out: Uint8Array, offset: number, host: string, port: number, family: IpFamily): void {
  const ip = addressBytes(host);
  if (ip === undefined || ip.length !== (family === 4 ? 4 : 16)) {
    throw malformed(`cannot encode ${host} as a compact IPv${family} address`);
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw malformed(`cannot encode port ${port}`);
  out.set(ip, offset);
  out[offset + ip.length] = port >> 8;
  out[offset + ip.length + 1] = port & 0xff;
}

/** One compact peer: 6 bytes for IPv4, 18 for IPv6 (family taken from the address). */
export function encodeCompactPeer(peer: PeerAddress): Uint8Array {
  const family = ipFamily(peer.host);
  if (family === undefined) throw malformed(`cannot encode ${peer.host}: not a literal IP`);
  const out = new Uint8Array(peerInfoBytes(family));
  writePeer(out, 0, peer.host, peer.port, family);
  return out;
}

/**
 * One compact peer (6 or 18 bytes). Port 0 cannot be dialled: such an entry reads as
 * undefined (skipped), like any other length.
 */
export function decodeCompactPeer(bytes: Uint8Array): PeerAddress | undefined {
  const family: IpFamily | undefined = bytes.length === 6 ? 4 : bytes.length === 18 ? 6 : undefined;
  if (family === undefined) return undefined;
  const ipLength = family === 4 ? 4 : 16;
  const port = (bytes[ipLength]! << 8) | bytes[ipLength + 1]!;
  if (port === 0) return undefined;
  return { host: formatIpBytes(bytes, 0, family), port };
}

/** Concatenated compact peers of one family (the `peers`/`peers6` string form). */
export function encodeCompactPeers(peers: readonly PeerAddress[], family: IpFamily): Uint8Array {
  const size = peerInfoBytes(family);
  const out = new Uint8Array(peers.length * size);
  peers.forEach((peer, i) => {
    writePeer(out, i * size, peer.host, peer.port, family);
  });
  return out;
}

/** Splits a concatenated compact-peer string; entries with port 0 are skipped. */
export function decodeCompactPeers(bytes: Uint8Array, family: IpFamily, max: number): PeerAddress[] {
  const size = peerInfoBytes(family);
  checkLength(bytes.length, size, max, 'peer');
  const peers: PeerAddress[] = [];
  for (let offset = 0; offset < bytes.length; offset += size) {
    const peer = decodeCompactPeer(bytes.subarray(offset, offset + size));
    if (peer) peers.push(peer);
  }
  return peers;
}

/** `nodes` (IPv4, 26 bytes each) or `nodes6` (IPv6, 38 bytes each). */
export function encodeCompactNodes(nodes: readonly NodeContact[], family: IpFamily): Uint8Array {
  const size = nodeInfoBytes(family);
  const out = new Uint8Array(nodes.length * size);
  nodes.forEach((node, i) => {
    if (node.id.length !== ID_BYTES) throw malformed(`cannot encode a node id of ${node.id.length} bytes`);
    out.set(node.id, i * size);
    writePeer(out, i * size + ID_BYTES, node.host, node.port, family);
  });
  return out;
}

/**
 * Parses `nodes`/`nodes6`. A length that is not a multiple of the entry size, or more than `max`
 * entries, is malformed; an entry with port 0 is skipped (it cannot be contacted).
 */
export function decodeCompactNodes(bytes: Uint8Array, family: IpFamily, max: number): NodeContact[] {
  const size = nodeInfoBytes(family);
  checkLength(bytes.length, size, max, 'node');
  const nodes: NodeContact[] = [];
  for (let offset = 0; offset < bytes.length; offset += size) {
    const peer = decodeCompactPeer(bytes.subarray(offset + ID_BYTES, offset + size));
    if (peer)
      nodes.push({
        id: copyBytes(bytes.subarray(offset, offset + ID_BYTES)),
        host: peer.host,
        port: peer.port,
      });
  }
  return nodes;
}

function checkLength(length: number, size: number, max: number, what: string): void {
  if (length % size !== 0)
    throw malformed(`compact ${what} info of ${length} bytes is not a multiple of ${size}`);
  if (length / size > max) throw malformed(`${length / size} compact ${what} entries, more than ${max}`);
}
