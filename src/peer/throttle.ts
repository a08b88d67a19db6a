/**
 * What a connection pays its bytes into, per direction: the session's bandwidth chain (the
 * torrent's limit, then the client's; `BandwidthChain` in `lodestone/policy`). The peer room
 * only pays and waits; the policy is elsewhere. See docs/rate-limits.md.
 */
export interface ByteThrottle {
  /** False when no level limits this direction: the connection then skips the waits. */
  readonly limited: boolean;
  /** Pays for bytes that moved (payload and protocol overhead alike). */
  use(bytes: number): void;
  /** Milliseconds before more bytes may move; 0 when they may now. */
  delayMs(): number;
  /** Calls `waiter` once bytes may move; returns a function that cancels the wait. */
  wait(waiter: () => void): () => void;
}

/** A connection's two throttles. */
export interface ConnectionThrottles {
  download: ByteThrottle;
  upload: ByteThrottle;
}
