import { createDiffieHellman, createHash, type DiffieHellman } from 'node:crypto';
import { MseError } from './errors.js';
import { Rc4 } from './rc4.js';

/** The 768-bit safe prime of the MSE specification; the generator is 2. */
export const MSE_PRIME = Buffer.from(
  'FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A63A36210000000000090563',
  'hex',
);
/** Length of a public key (Ya, Yb) and of the shared secret S, in bytes. */
export const KEY_LENGTH = 96;
/** Length of the private key Xa/Xb, in bytes (160 bits). */
export const PRIVATE_KEY_LENGTH = 20;
/** Longest PadA/PadB/PadC/PadD the specification allows. */
export const MAX_PADDING = 512;
/** Keystream bytes discarded before the first byte is encrypted. */
export const RC4_DISCARD = 1024;
/** crypto_provide / crypto_select bits. */
export const CRYPTO_PLAINTEXT = 0x01;
export const CRYPTO_RC4 = 0x02;
/** Verification constant: 8 zero bytes. */
export const VC_LENGTH = 8;

/** A source of random bytes (injected so tests are deterministic). */
export type RandomBytes = (length: number) => Uint8Array;

export function sha1(...parts: (string | Uint8Array)[]): Buffer {
  const hash = createHash('sha1');
  for (const part of parts) hash.update(part);
  return hash.digest();
}

function leftPad(bytes: Buffer, length: number): Buffer {
  if (bytes.length === length) return bytes;
  const out = Buffer.alloc(length);
  bytes.copy(out, length - bytes.length);
  return out;
}

/**
 * Making a DiffieHellman object checks the prime (≈ 30 ms for 768 bits), so one is shared: each
 * use sets its private key first, and every use is synchronous, so uses never interleave.
 */
let sharedDh: DiffieHellman | undefined;
const PRIME_BIGINT = BigInt(`0x${MSE_PRIME.toString('hex')}`);

/** One side's Diffie–Hellman key pair over the MSE prime. */
export class MseKeyPair {
  readonly #privateKey: Buffer;
  /** Our public key, 96 bytes big-endian. */
  readonly publicKey: Buffer;

  constructor(privateKey: Uint8Array) {
    this.#privateKey = Buffer.from(privateKey);
    const dh = this.#dh();
    dh.generateKeys();
    this.publicKey = leftPad(dh.getPublicKey(), KEY_LENGTH);
  }

  #dh(): DiffieHellman {
    sharedDh ??= createDiffieHellman(MSE_PRIME, 2);
    sharedDh.setPrivateKey(this.#privateKey);
    return sharedDh;
  }

  /** S from the peer's 96-byte public key; a degenerate key (0, 1, ≥ P-1) is the peer's fault. */
  secret(remotePublicKey: Uint8Array): Buffer {
    const remote = Buffer.from(remotePublicKey);
    let big = 0n;
    for (const byte of remote) big = (big << 8n) | BigInt(byte);
    if (big <= 1n || big >= PRIME_BIGINT - 1n)
      throw new MseError('bad-key', 'peer sent a degenerate public key');
    try {
      return leftPad(this.#dh().computeSecret(remote), KEY_LENGTH);
    } catch (error) {
      throw new MseError('bad-key', `peer sent an invalid public key: ${(error as Error).message}`);
    }
  }
}

/** HASH('req1', S): the initiator's synchronisation marker. */
export function req1Hash(secret: Uint8Array): Buffer {
  return sha1('req1', secret);
}

/** HASH('req2', SKEY): what the receiver looks torrents up by (SKEY is the v1 info-hash). */
export function req2Hash(skey: Uint8Array): Buffer {
  return sha1('req2', skey);
}

/** HASH('req2', SKEY) xor HASH('req3', S), as sent by the initiator. */
export function obfuscatedSkey(skey: Uint8Array, secret: Uint8Array): Buffer {
  return xor20(req2Hash(skey), sha1('req3', secret));
}

/** Recovers HASH('req2', SKEY) from what the initiator sent. */
export function unobfuscateSkey(sent: Uint8Array, secret: Uint8Array): Buffer {
  return xor20(Buffer.from(sent), sha1('req3', secret));
}

function xor20(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.alloc(20);
  for (let i = 0; i < 20; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

/** The two RC4 streams: A→B (initiator encrypts) keyed by keyA, B→A by keyB, 1024 bytes discarded. */
export function mseCiphers(
  secret: Uint8Array,
  skey: Uint8Array,
  initiator: boolean,
): { encrypt: Rc4; decrypt: Rc4 } {
  const a = new Rc4(sha1('keyA', secret, skey), RC4_DISCARD);
  const b = new Rc4(sha1('keyB', secret, skey), RC4_DISCARD);
  return initiator ? { encrypt: a, decrypt: b } : { encrypt: b, decrypt: a };
}

/** A padding length in 0..max from the random source. */
export function paddingLength(random: RandomBytes, max: number): number {
  if (max <= 0) return 0;
  const bytes = random(2);
  return ((bytes[0]! << 8) | bytes[1]!) % (max + 1);
}

/** Index of `needle` in `haystack[from..to)` (the needle must lie wholly within), or -1. */
export function findBytes(haystack: Uint8Array, needle: Uint8Array, from: number, to: number): number {
  const last = Math.min(to, haystack.length) - needle.length;
  const first = needle[0];
  outer: for (let i = from; i <= last; i++) {
    if (haystack[i] !== first) continue;
    for (let k = 1; k < needle.length; k++) if (haystack[i + k] !== needle[k]) continue outer;
    return i;
  }
  return -1;
}
