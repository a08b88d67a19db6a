import {
  CRYPTO_PLAINTEXT,
  CRYPTO_RC4,
  findBytes,
  KEY_LENGTH,
  MAX_PADDING,
  MseKeyPair,
  mseCiphers,
  obfuscatedSkey,
  PRIVATE_KEY_LENGTH,
  paddingLength,
  type RandomBytes,
  req1Hash,
  unobfuscateSkey,
  VC_LENGTH,
} from './crypto.js';
import { MseError } from './errors.js';
import type { Rc4 } from './rc4.js';

/** Which of plaintext (after the obfuscated handshake) and RC4 a connection carries. */
export type MseMethod = 'plaintext' | 'rc4';

/** A completed handshake. */
export interface MseResult {
  method: MseMethod;
  /** RC4 streams for every byte after the handshake; undefined when plaintext was selected. */
  encrypt: Rc4 | undefined;
  decrypt: Rc4 | undefined;
  /**
   * Bytes received past the handshake, already decrypted (ours to keep). On the receiving side
   * the initiator's initial payload (IA, normally its BitTorrent handshake) comes first.
   */
  payload: Buffer;
  /** The torrent (SKEY, the v1 info-hash) the connection is for. */
  infoHash: Uint8Array;
}

/** What to do after feeding bytes: send `send` (if any); `done` once the handshake is complete. */
export interface MseStep {
  send: Uint8Array | undefined;
  done: MseResult | undefined;
}

/** Longest initial payload (IA) accepted: a BitTorrent handshake is 68 bytes. */
export const MAX_INITIAL_PAYLOAD = 1024;

/** The bitmask of methods a policy offers or accepts. */
export function methodMask(methods: readonly MseMethod[]): number {
  let mask = 0;
  for (const method of methods) mask |= method === 'rc4' ? CRYPTO_RC4 : CRYPTO_PLAINTEXT;
  return mask;
}

const PLAIN_HEADER = Buffer.from('\x13BitTorrent protocol', 'latin1');

function startsWithPlainHandshake(bytes: Buffer): boolean {
  return bytes.length >= PLAIN_HEADER.length && PLAIN_HEADER.equals(bytes.subarray(0, PLAIN_HEADER.length));
}

function u16(value: number): Buffer {
  const out = Buffer.alloc(2);
  out.writeUInt16BE(value);
  return out;
}

function u32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value);
  return out;
}

/** Bytes received and not yet consumed; bounded by the largest single need of a state plus one read. */
class Pending {
  bytes: Buffer = Buffer.alloc(0);
  add(chunk: Uint8Array): void {
    // Always a copy: the caller's chunk may be a reused read buffer.
    this.bytes = Buffer.concat([this.bytes, chunk]);
  }
  take(count: number): Buffer {
    const head = this.bytes.subarray(0, count);
    this.bytes = this.bytes.subarray(count);
    return head;
  }
}

export interface MseInitiatorOptions {
  /** The torrent's v1 info-hash (SKEY). */
  infoHash: Uint8Array;
  /** Methods offered in crypto_provide. */
  provide: readonly MseMethod[];
  /** Initial payload sent encrypted in the first round trip (our BitTorrent handshake). */
  initialPayload?: Uint8Array;
  random: RandomBytes;
  /** Longest PadA (random length up to it). @default 512 */
  maxPadding?: number;
  /** Length of PadC. @default 0 */
  padCLength?: number;
}

/**
 * The connecting side (A): sends Ya+PadA, then on Yb the synchronisation hash, the obfuscated
 * SKEY and, encrypted, VC, crypto_provide, PadC and IA; then finds the encrypted VC of B within
 * PadB's bound and reads crypto_select and PadD. Pure: bytes in, bytes to send and a result out.
 */
export class MseInitiator {
  readonly #options: MseInitiatorOptions;
  readonly #keys: MseKeyPair;
  readonly #pending = new Pending();
  #state: 'yb' | 'vc' | 'select' | 'pad-d' | 'done' = 'yb';
  #decrypt: Rc4 | undefined;
  #encrypt: Rc4 | undefined;
  #encryptedVc: Uint8Array | undefined;
  #method: MseMethod = 'rc4';
  #padD = 0;

  constructor(options: MseInitiatorOptions) {
    this.#options = options;
    if (methodMask(options.provide) === 0) throw new MseError('no-common-method', 'no method to provide');
    this.#keys = new MseKeyPair(options.random(PRIVATE_KEY_LENGTH));
  }

  /** The first bytes to send: Ya and PadA. */
  start(): Uint8Array {
    const pad = this.#options.random(
      paddingLength(this.#options.random, this.#options.maxPadding ?? MAX_PADDING),
    );
    return Buffer.concat([this.#keys.publicKey, pad]);
  }

  /** Feeds received bytes; throws an {@link MseError} when the peer fails the handshake. */
  push(chunk: Uint8Array): MseStep {
    if (this.#state === 'done') throw new MseError('bad-vc', 'handshake already complete');
    this.#pending.add(chunk);
    let send: Uint8Array | undefined;
    const pending = this.#pending;
    for (;;) {
      switch (this.#state) {
        case 'yb': {
          // A peer without MSE that answers with its plaintext handshake (a key starting with
          // these 20 bytes has odds of 2^-160): fail now, so plaintext is tried at once.
          if (startsWithPlainHandshake(pending.bytes))
            throw new MseError('plaintext-reply', 'the peer answered with a plaintext BitTorrent handshake');
          if (pending.bytes.length < KEY_LENGTH) return { send, done: undefined };
          send = this.#onPublicKey(pending.take(KEY_LENGTH));
          break;
        }
        case 'vc': {
          const at = findBytes(pending.bytes, this.#encryptedVc!, 0, MAX_PADDING + VC_LENGTH);
          if (at < 0) {
            if (pending.bytes.length >= MAX_PADDING + VC_LENGTH)
              throw new MseError('sync-not-found', 'no verification constant within 512 bytes of padding');
            return { send, done: undefined };
          }
          pending.take(at + VC_LENGTH);
          this.#state = 'select';
          break;
        }
        case 'select': {
          if (pending.bytes.length < 6) return { send, done: undefined };
          const head = pending.take(6);
          this.#decrypt!.process(head);
          const select = head.readUInt32BE(0);
          const offered = methodMask(this.#options.provide);
          if ((select !== CRYPTO_RC4 && select !== CRYPTO_PLAINTEXT) || (select & offered) === 0)
            throw new MseError('no-common-method', `peer selected method ${select}, not one we offered`);
          this.#method = select === CRYPTO_RC4 ? 'rc4' : 'plaintext';
          this.#padD = head.readUInt16BE(4);
          if (this.#padD > MAX_PADDING)
            throw new MseError('padding-too-long', `PadD of ${this.#padD} bytes (at most 512)`);
          this.#state = 'pad-d';
          break;
        }
        case 'pad-d': {
          if (pending.bytes.length < this.#padD) return { send, done: undefined };
          pending.take(this.#padD);
          this.#decrypt!.skip(this.#padD);
          this.#state = 'done';
          return { send, done: this.#result(pending.take(pending.bytes.length)) };
        }
        default:
          return { send, done: undefined };
      }
    }
  }

  #onPublicKey(remote: Buffer): Uint8Array {
    const { infoHash, random } = this.#options;
    const secret = this.#keys.secret(remote);
    const { encrypt, decrypt } = mseCiphers(secret, infoHash, true);
    this.#encrypt = encrypt;
    this.#decrypt = decrypt;
    // B's VC is the first 8 keystream bytes of its stream (zeros encrypted); finding it places
    // our decrypting stream just after it.
    this.#encryptedVc = new Uint8Array(VC_LENGTH);
    decrypt.process(this.#encryptedVc);
    const padC = random(this.#options.padCLength ?? 0);
    const ia = this.#options.initialPayload ?? new Uint8Array(0);
    const encrypted = Buffer.concat([
      Buffer.alloc(VC_LENGTH),
      u32(methodMask(this.#options.provide)),
      u16(padC.length),
      padC,
      u16(ia.length),
      ia,
    ]);
    encrypt.process(encrypted);
    this.#state = 'vc';
    return Buffer.concat([req1Hash(secret), obfuscatedSkey(infoHash, secret), encrypted]);
  }

  #result(rest: Buffer): MseResult {
    const rc4 = this.#method === 'rc4';
    if (rc4) this.#decrypt!.process(rest);
    return {
      method: this.#method,
      encrypt: rc4 ? this.#encrypt : undefined,
      decrypt: rc4 ? this.#decrypt : undefined,
      payload: rest,
      infoHash: this.#options.infoHash,
    };
  }
}

export interface MseReceiverOptions {
  /** The info-hash whose HASH('req2', info-hash) this is, among our torrents; undefined if none. */
  lookup: (req2: Buffer) => Uint8Array | undefined;
  /** Methods we accept; RC4 is selected whenever the peer offers it and we accept it. */
  accept: readonly MseMethod[];
  random: RandomBytes;
  /** Longest PadB (random length up to it). @default 512 */
  maxPadding?: number;
  /** Length of PadD. @default 0 */
  padDLength?: number;
}

/**
 * The accepting side (B): on Ya sends Yb+PadB, finds HASH('req1', S) within PadA's bound,
 * recovers SKEY through `lookup`, checks VC, chooses a method from crypto_provide, reads PadC
 * and IA, and answers VC, crypto_select and PadD.
 */
export class MseReceiver {
  readonly #options: MseReceiverOptions;
  readonly #keys: MseKeyPair;
  readonly #pending = new Pending();
  #state: 'ya' | 'req1' | 'skey' | 'vc' | 'pad-c' | 'ia' | 'done' = 'ya';
  #secret: Buffer | undefined;
  #req1: Buffer | undefined;
  #infoHash: Uint8Array | undefined;
  #encrypt: Rc4 | undefined;
  #decrypt: Rc4 | undefined;
  #method: MseMethod = 'rc4';
  #padC = 0;
  #ia = 0;

  constructor(options: MseReceiverOptions) {
    this.#options = options;
    this.#keys = new MseKeyPair(options.random(PRIVATE_KEY_LENGTH));
  }

  /** Feeds received bytes; throws an {@link MseError} when the peer fails the handshake. */
  push(chunk: Uint8Array): MseStep {
    if (this.#state === 'done') throw new MseError('bad-vc', 'handshake already complete');
    this.#pending.add(chunk);
    const pending = this.#pending;
    let send: Uint8Array | undefined;
    for (;;) {
      switch (this.#state) {
        case 'ya': {
          if (pending.bytes.length < KEY_LENGTH) return { send, done: undefined };
          this.#secret = this.#keys.secret(pending.take(KEY_LENGTH));
          this.#req1 = req1Hash(this.#secret);
          const { random } = this.#options;
          send = Buffer.concat([
            this.#keys.publicKey,
            random(paddingLength(random, this.#options.maxPadding ?? MAX_PADDING)),
          ]);
          this.#state = 'req1';
          break;
        }
        case 'req1': {
          const at = findBytes(pending.bytes, this.#req1!, 0, MAX_PADDING + 20);
          if (at < 0) {
            if (pending.bytes.length >= MAX_PADDING + 20)
              throw new MseError('sync-not-found', 'no HASH(req1, S) within 512 bytes of padding');
            return { send, done: undefined };
          }
          pending.take(at + 20);
          this.#state = 'skey';
          break;
        }
        case 'skey': {
          if (pending.bytes.length < 20) return { send, done: undefined };
          const infoHash = this.#options.lookup(unobfuscateSkey(pending.take(20), this.#secret!));
          if (!infoHash) throw new MseError('unknown-torrent', 'the peer asked for a torrent we do not have');
          this.#infoHash = infoHash;
          const { encrypt, decrypt } = mseCiphers(this.#secret!, infoHash, false);
          this.#encrypt = encrypt;
          this.#decrypt = decrypt;
          this.#state = 'vc';
          break;
        }
        case 'vc': {
          if (pending.bytes.length < VC_LENGTH + 6) return { send, done: undefined };
          const head = pending.take(VC_LENGTH + 6);
          this.#decrypt!.process(head);
          for (let i = 0; i < VC_LENGTH; i++)
            if (head[i] !== 0) throw new MseError('bad-vc', 'verification constant is not zero');
          this.#method = this.#choose(head.readUInt32BE(VC_LENGTH));
          this.#padC = head.readUInt16BE(VC_LENGTH + 4);
          if (this.#padC > MAX_PADDING)
            throw new MseError('padding-too-long', `PadC of ${this.#padC} bytes (at most 512)`);
          this.#state = 'pad-c';
          break;
        }
        case 'pad-c': {
          if (pending.bytes.length < this.#padC + 2) return { send, done: undefined };
          const padAndLength = pending.take(this.#padC + 2);
          this.#decrypt!.process(padAndLength);
          this.#ia = padAndLength.readUInt16BE(this.#padC);
          if (this.#ia > MAX_INITIAL_PAYLOAD)
            throw new MseError('payload-too-long', `initial payload of ${this.#ia} bytes (at most 1024)`);
          this.#state = 'ia';
          break;
        }
        case 'ia': {
          if (pending.bytes.length < this.#ia) return { send, done: undefined };
          const ia = pending.take(this.#ia);
          this.#decrypt!.process(ia);
          this.#state = 'done';
          const answer = Buffer.concat([
            Buffer.alloc(VC_LENGTH),
            u32(this.#method === 'rc4' ? CRYPTO_RC4 : CRYPTO_PLAINTEXT),
            u16(this.#options.padDLength ?? 0),
            this.#options.random(this.#options.padDLength ?? 0),
          ]);
          this.#encrypt!.process(answer);
          const step4 = send ? Buffer.concat([send, answer]) : answer;
          const rest = pending.take(pending.bytes.length);
          const rc4 = this.#method === 'rc4';
          if (rc4) this.#decrypt!.process(rest);
          return {
            send: step4,
            done: {
              method: this.#method,
              encrypt: rc4 ? this.#encrypt : undefined,
              decrypt: rc4 ? this.#decrypt : undefined,
              payload: Buffer.concat([ia, rest]),
              infoHash: this.#infoHash!,
            },
          };
        }
        default:
          return { send, done: undefined };
      }
    }
  }

  #choose(provide: number): MseMethod {
    const accept = methodMask(this.#options.accept);
    if (provide & CRYPTO_RC4 & accept) return 'rc4';
    if (provide & CRYPTO_PLAINTEXT & accept) return 'plaintext';
    throw new MseError('no-common-method', `peer provides methods ${provide}, none of which we accept`);
  }
}
