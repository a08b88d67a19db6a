/**
 * Write tokens for `announce_peer` (BEP 5): a `get_peers` reply carries a token that only the
 * querier's IP can later present. The token is a truncated SHA-1 of the IP's bytes and a secret;
 * the port is left out (as libtorrent does) so a NAT that rebinds the UDP port between the two
 * queries does not invalidate it. The secret rotates every {@link TOKEN_ROTATE_MS} and the previous
 * one is still accepted, so a token is valid for 5 to 10 minutes, as the BEP suggests.
 * Pure: time comes from the injected clock, randomness from the injected source.
 */
import { createHash } from 'node:crypto';
import { addressBytes } from '../address.js';
import type { Clock } from '../clock.js';
import type { RandomBytes } from './node-id.js';

/** How often the secret changes. */
export const TOKEN_ROTATE_MS = 5 * 60_000;
/** Bytes of a token we hand out (libtorrent: 4; 8 makes a blind guess 2^32 times harder for the same cost). */
export const TOKEN_BYTES = 8;
const SECRET_BYTES = 20;

export interface TokenOptions {
  clock: Clock;
  random: RandomBytes;
  /** @default 300000 (5 minutes) */
  rotateMs?: number;
}

export class TokenIssuer {
  readonly #clock: Clock;
  readonly #random: RandomBytes;
  readonly #rotateMs: number;
  #current: Uint8Array;
  #previous: Uint8Array;
  #rotatedAt: number;

  constructor(options: TokenOptions) {
    this.#clock = options.clock;
    this.#random = options.random;
    this.#rotateMs = options.rotateMs ?? TOKEN_ROTATE_MS;
    this.#current = this.#secret();
    // No token was issued before we started: the "previous" secret is a fresh one nobody knows.
    this.#previous = this.#secret();
    this.#rotatedAt = this.#clock.now();
  }

  /** The token to put in a `get_peers` reply to `host`. */
  issue(host: string): Uint8Array {
    this.#rotate();
    return token(this.#current, host);
  }

  /** True when `presented` was issued to `host` with the current or the previous secret. */
  verify(presented: Uint8Array, host: string): boolean {
    this.#rotate();
    if (presented.length !== TOKEN_BYTES) return false;
    return equal(presented, token(this.#current, host)) || equal(presented, token(this.#previous, host));
  }

  /** Bytes held (two secrets and the bookkeeping). */
  memoryBytes(): number {
    return 2 * SECRET_BYTES + 64;
  }

  #secret(): Uint8Array {
    return Uint8Array.from(this.#random(SECRET_BYTES));
  }

  /** Catches up with the clock: one rotation keeps the old secret; two or more forget both. */
  #rotate(): void {
    const periods = Math.floor((this.#clock.now() - this.#rotatedAt) / this.#rotateMs);
    if (periods < 1) return;
    this.#previous = periods === 1 ? this.#current : this.#secret();
    this.#current = this.#secret();
    this.#rotatedAt += periods * this.#rotateMs;
  }
}

function token(secret: Uint8Array, host: string): Uint8Array {
  const hash = createHash('sha1');
  hash.update(addressBytes(host) ?? new TextEncoder().encode(host));
  hash.update(secret);
  return new Uint8Array(hash.digest().subarray(0, TOKEN_BYTES));
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
