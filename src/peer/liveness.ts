import type { Clock } from '../clock.js';

/** A peer silent this long is gone, whatever its socket says. */
export const IDLE_TIMEOUT_MS = 180_000;
/** We send a keep-alive after this long without sending anything. */
export const KEEPALIVE_INTERVAL_MS = 90_000;
/**
 * Over uTP, a peer silent this long while we were quiet too gets a keep-alive: a vanished uTP
 * peer (killed, unplugged) sends no FIN or RST, and only data it fails to acknowledge lets the
 * transport find out (it gives up within its dead-peer timeout).
 */
export const UTP_PROBE_AFTER_MS = 30_000;
/** At most one check a second, whatever the timestamps say: never a busy loop. */
const MIN_CHECK_DELAY_MS = 1000;

/** What the watch reads and does: a PeerConnection. */
export interface LivenessTarget {
  readonly lastReceivedAt: number;
  readonly lastSentAt: number;
  readonly closed: boolean;
  close(reason: string): void;
  send(message: { type: 'keep-alive' }): void;
}

/**
 * Drops a connection whose peer has been silent for `idleTimeoutMs` and
 * sends a keep-alive when we have been quiet for `keepAliveIntervalMs`, or
 * (with `probeAfterMs`) when both sides have been quiet that long.
 * One timer, set for the earlier deadline and re-armed when it fires;
 * traffic only moves the timestamps it reads, so a busy connection costs no
 * timer work per message.
 */
export class Liveness {
  readonly #target: LivenessTarget;
  readonly #clock: Clock;
  readonly #idleTimeoutMs: number;
  readonly #keepAliveIntervalMs: number;
  readonly #probeAfterMs: number;
  #timer: unknown;

  /** @param probeAfterMs both sides quiet this long: a keep-alive (off when undefined). */
  constructor(
    target: LivenessTarget,
    clock: Clock,
    idleTimeoutMs: number,
    keepAliveIntervalMs: number,
    probeAfterMs?: number,
  ) {
    this.#target = target;
    this.#clock = clock;
    this.#idleTimeoutMs = idleTimeoutMs;
    this.#keepAliveIntervalMs = keepAliveIntervalMs;
    this.#probeAfterMs = probeAfterMs ?? Number.POSITIVE_INFINITY;
  }

  start(): void {
    const target = this.#target;
    const due = Math.min(
      target.lastReceivedAt + this.#idleTimeoutMs,
      target.lastSentAt + this.#keepAliveIntervalMs,
      Math.max(target.lastReceivedAt, target.lastSentAt) + this.#probeAfterMs,
    );
    this.#timer = this.#clock.setTimeout(
      () => this.#check(),
      Math.max(MIN_CHECK_DELAY_MS, due - this.#clock.now()),
    );
  }

  stop(): void {
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #check(): void {
    this.#timer = undefined;
    const target = this.#target;
    if (target.closed) return;
    const now = this.#clock.now();
    if (now - target.lastReceivedAt >= this.#idleTimeoutMs) {
      target.close(`peer silent for ${describeDuration(this.#idleTimeoutMs)}`);
      return;
    }
    const quiet = now - target.lastSentAt;
    const probe = quiet >= this.#probeAfterMs && now - target.lastReceivedAt >= this.#probeAfterMs;
    if (quiet >= this.#keepAliveIntervalMs || probe) target.send({ type: 'keep-alive' });
    this.start();
  }
}

/** 180000 → '3 minutes', 90000 → '90 s': for close reasons. */
function describeDuration(ms: number): string {
  if (ms >= 60_000 && ms % 60_000 === 0) {
    const minutes = ms / 60_000;
    return minutes === 1 ? '1 minute' : `${minutes} minutes`;
  }
  return `${Math.round(ms / 1000)} s`;
}
