/**
 * How many peer dials may start now, and how long each may take (issue 15, "tracker eclipse").
 *
 * Dialling is decoupled from the connection cap, as in libtorrent (`connection_speed`, the old
 * half-open limit): dials in flight ("half-open") are bounded on their own, and new attempts
 * are paced by a token bucket, so a list of refused addresses is worked through at hundreds per
 * second while a silent one costs at most a short connect timeout. Dials start only while a
 * connection slot is free; the caller never keeps more than `maxPeers` connections (a dial that
 * succeeds when the slots have filled meanwhile is closed again). One budget may serve many
 * torrents (a Client shares one), so the half-open bound holds for the process, not per
 * torrent. Pure: `now` is injected.
 */
export interface DialBudgetOptions {
  /** Most dials in flight at once (sockets connecting). @default 100 */
  maxHalfOpen?: number;
  /** Connection attempts per second, on average (token bucket). @default 200 */
  attemptsPerSecond?: number;
  /** Most attempts started at once after a quiet spell (bucket size). @default 50 */
  burst?: number;
}

export interface DialState {
  /** Established connections (of the torrent asking). */
  connected: number;
  /** Its dials in flight. */
  dialing: number;
  /** Its connection cap. */
  maxPeers: number;
}

/** Defaults of DialBudgetOptions. */
export const DIAL_MAX_HALF_OPEN = 100;
export const DIAL_ATTEMPTS_PER_SECOND = 200;
export const DIAL_BURST = 50;
/**
 * A torrent keeps at most this many dials in flight per free connection slot: most dials to a
 * big list fail, so it dials ahead, but not so far ahead that many connectable peers find the
 * slots taken when they answer.
 */
export const DIALS_PER_FREE_SLOT = 2;

/** From this many dialable addresses waiting, timeouts shorten (see dialTimeouts). */
export const DIAL_PRESSURE_WAITING = 100;
/** The connect timeout under pressure (at most the configured one). */
export const PRESSURE_CONNECT_TIMEOUT_MS = 4_000;
/** The handshake timeout of a dialled peer under pressure (at most the configured one). */
export const PRESSURE_HANDSHAKE_TIMEOUT_MS = 5_000;

export class DialBudget {
  readonly #now: () => number;
  readonly #maxHalfOpen: number;
  readonly #rate: number;
  readonly #burst: number;
  #tokens: number;
  #refilledAt: number;
  #halfOpen = 0;

  constructor(now: () => number, options: DialBudgetOptions = {}) {
    this.#now = now;
    this.#maxHalfOpen = Math.max(1, options.maxHalfOpen ?? DIAL_MAX_HALF_OPEN);
    this.#rate = Math.max(1, options.attemptsPerSecond ?? DIAL_ATTEMPTS_PER_SECOND);
    this.#burst = Math.max(1, options.burst ?? DIAL_BURST);
    this.#tokens = this.#burst;
    this.#refilledAt = now();
  }

  /** Dials in flight (started and not yet ended). */
  get halfOpen(): number {
    return this.#halfOpen;
  }

  /**
   * Dials that may start now: a slot must be free, half-open below its bound (for everyone
   * sharing the budget), tokens left, and the torrent's own dials below DIALS_PER_FREE_SLOT per
   * free slot.
   */
  allowance(state: DialState): number {
    const free = state.maxPeers - state.connected;
    if (free <= 0) return 0;
    this.#refill();
    const own = free * DIALS_PER_FREE_SLOT - state.dialing;
    return Math.max(0, Math.min(this.#maxHalfOpen - this.#halfOpen, Math.floor(this.#tokens), own));
  }

  /** `count` dials were started: each takes an attempt token and a half-open place. */
  started(count: number): void {
    this.#refill();
    this.#tokens = Math.max(0, this.#tokens - count);
    this.#halfOpen += count;
  }

  /** A dial ended (connected, refused, timed out): its half-open place is free again. */
  ended(): void {
    this.#halfOpen = Math.max(0, this.#halfOpen - 1);
  }

  /** Milliseconds until the next attempt token (0 when one is there now). */
  nextTokenInMs(): number {
    this.#refill();
    return this.#tokens >= 1 ? 0 : Math.ceil(((1 - this.#tokens) * 1000) / this.#rate);
  }

  #refill(): void {
    const now = this.#now();
    const elapsed = Math.max(0, now - this.#refilledAt);
    this.#refilledAt = now;
    this.#tokens = Math.min(this.#burst, this.#tokens + (elapsed * this.#rate) / 1000);
  }
}

/**
 * Timeouts for the next dials: the configured ones, shortened under pressure (many dialable
 * addresses waiting) so that junk that never answers costs seconds, not the full timeout each.
 */
export function dialTimeouts(
  configured: { connectMs: number; handshakeMs: number },
  waiting: number,
): { connectMs: number; handshakeMs: number } {
  if (waiting < DIAL_PRESSURE_WAITING) return configured;
  return {
    connectMs: Math.min(configured.connectMs, PRESSURE_CONNECT_TIMEOUT_MS),
    handshakeMs: Math.min(configured.handshakeMs, PRESSURE_HANDSHAKE_TIMEOUT_MS),
  };
}
