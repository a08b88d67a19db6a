import type { EncryptionPolicy } from '../net/mse/policy.js';
import type { PeerTransport } from '../peer/dial-transport.js';
import type { PeerConnection } from '../peer/peer-connection.js';

/** Addresses remembered at most, per kind; the oldest is forgotten first. */
export const DIAL_MEMORY_MAX_ADDRESSES = 10_000;

/**
 * What worked when dialling each peer address (`host:port`): the way in (an MSE handshake or
 * plaintext) and whether TCP won the uTP/TCP race (the address is then dialled over TCP only).
 * Each torrent's dialler and each metadata phase has its own: the download does not inherit what
 * the metadata phase learnt, because dialling a peer again at once (TCP only, the way that worked)
 * right after the metadata phase closed its connection is refused by Transmission 3.00 (it still
 * counts the old connection from that IP), and the refused address then waits out its 15 s
 * back-off; uTP's head start gives Transmission the time to let go. Bounded: at most
 * {@link DIAL_MEMORY_MAX_ADDRESSES} addresses per kind (trackers decide how many we hear of).
 */
export class DialMemory {
  readonly #ways = new Map<string, 'mse' | 'plain'>();
  readonly #tcpOnly = new Set<string>();
  readonly #max: number;

  /** @param maxAddresses per kind. @default DIAL_MEMORY_MAX_ADDRESSES */
  constructor(maxAddresses = DIAL_MEMORY_MAX_ADDRESSES) {
    this.#max = Math.max(1, maxAddresses);
  }

  /** The way in that worked last with this address, if any. */
  way(key: string): 'mse' | 'plain' | undefined {
    return this.#ways.get(key);
  }

  /** `tcp` when TCP won the race to this address before (uTP did not answer in time). */
  transport(key: string): PeerTransport | undefined {
    return this.#tcpOnly.has(key) ? 'tcp' : undefined;
  }

  setWay(key: string, way: 'mse' | 'plain'): void {
    this.#ways.delete(key);
    this.#ways.set(key, way);
    if (this.#ways.size > this.#max) this.#ways.delete(this.#ways.keys().next().value!);
  }

  /** A dial connected over `transport`; when uTP was tried too and TCP won, TCP only from now on. */
  connected(key: string, transport: PeerTransport, utpTried: boolean): void {
    if (transport !== 'tcp' || !utpTried || this.#tcpOnly.has(key)) return;
    this.#tcpOnly.add(key);
    if (this.#tcpOnly.size > this.#max) this.#tcpOnly.delete(this.#tcpOnly.values().next().value!);
  }

  /** Addresses remembered (ways, TCP-only), for tests and diagnostics. */
  get size(): { ways: number; tcpOnly: number } {
    return { ways: this.#ways.size, tcpOnly: this.#tcpOnly.size };
  }
}

/**
 * Remembers how we got into a dialled connection once the peer's handshake arrives. Under the
 * `allow` policy (plaintext first), a plaintext connection closed before the peer's handshake
 * (a peer that requires encryption) makes MSE the first way next time, and `retry` is called
 * once so the caller can dial that peer again at once, encrypted.
 */
export function rememberWay(
  memory: DialMemory,
  connection: PeerConnection,
  way: 'mse' | 'plain',
  encryption: EncryptionPolicy,
  retry: () => void,
): void {
  connection.once('handshake', () => memory.setWay(connection.key, way));
  connection.once('close', () => {
    if (connection.remoteHandshake !== undefined || way !== 'plain' || encryption !== 'allow') return;
    if (memory.way(connection.key) === 'mse') return;
    memory.setWay(connection.key, 'mse');
    retry();
  });
}
