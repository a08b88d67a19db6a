/**
 * The client's DHT (BEP 5, BEP 32): one `DhtNode` on the client's UDP socket. The `dht` room is
 * pure; this is its glue: a UDP route for KRPC datagrams (byte 0 `d`), the codec, real time and
 * randomness, the saved routing table, and the bootstrap hosts (resolved only when used).
 */
import { randomFillSync } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { PeerAddress } from '../address.js';
import { type Clock, systemClock } from '../clock.js';
import { DhtNode } from '../dht/dht-node.js';
import { DhtError } from '../dht/errors.js';
import { decodeKrpc, encodeKrpc, MAX_KRPC_DATAGRAM } from '../dht/krpc.js';
import type { NodeContact } from '../dht/messages.js';
import type { DhtStats, GetPeersResult } from '../dht/node-options.js';
import { decodeDhtState, encodeDhtState } from '../dht/state.js';
import type { UdpRoute, UdpSocket } from '../net/udp-socket.js';
import { bootstrapContacts, type ResolveHost, resolveWithDns } from './dht-bootstrap-hosts.js';
import { DhtTorrentRounds, type DhtTrackHooks, type SessionDht } from './dht-torrent.js';

/** Where the routing table is kept between runs (e.g. a file: see `stateFile`). */
export interface DhtStateStore {
  /** The saved bytes, or undefined when nothing was saved yet. */
  load(): Promise<Uint8Array | undefined>;
  save(bytes: Uint8Array): Promise<void>;
}

/** The `dht` option of a `Client` (BEP 5). */
export interface DhtOptions {
  /**
   * Nodes to join the network through: addresses or `"host:port"` strings (a hostname is looked
   * up with `dns.lookup` when the DHT starts, not before; each of its addresses the socket can
   * reach is asked, IPv4 and IPv6, at most 8 a name). The saved table, when there is one, is
   * asked first. @default none (a library client joins only through what you give it)
   */
  bootstrap?: (PeerAddress | string)[];
  /** Keeps the routing table (and our node id) between runs; see also `stateFile`. */
  state?: DhtStateStore;
  /** A file for the routing table (written atomically: temp file, fsync, rename). Ignored when `state` is given. */
  stateFile?: string;
  /** How often the table is saved while running (it is saved at close too). @default 600000 (10 min) */
  saveIntervalMs?: number;
}

export interface DhtServiceEvents {
  /** Bootstrap finished: the routing table's size then. */
  ready: [{ nodes: number }];
  /** The routing table holds its first node: lookups can start (bootstrap goes on). */
  populated: [{ nodes: number }];
  /** Something to tell the user that did not stop the DHT (a corrupt state file, a bootstrap host not found). */
  warning: [{ message: string }];
}

/** The DHT's counters as the client reports them (`Client.dhtStats`). */
export interface ClientDhtStats extends DhtStats {
  /** Peers lookups returned (with repeats across rounds). */
  peersFound: number;
  /** Datagrams that did not decode as KRPC (dropped). */
  badDatagrams: number;
}

/** Hosts we look up and contacts asked at bootstrap, at most. */
const MAX_BOOTSTRAP = 32;
/** When bootstrap left the table empty, the next attempt (hostnames resolved again). */
export const BOOTSTRAP_RETRY_MS = 60_000;
/** A table with fewer nodes than one bucket (k = 8): a lookup on it is not an answer yet. */
const THIN_TABLE_NODES = 8;

export class DhtService extends EventEmitter<DhtServiceEvents> {
  readonly #udp: UdpSocket;
  readonly #options: DhtOptions;
  readonly #clock: Clock;
  readonly #store: DhtStateStore | undefined;
  readonly #resolveHost: ResolveHost;
  #node: DhtNode | undefined;
  #saveTimer: unknown;
  #retryTimer: unknown;
  #closed = false;
  #ready = false;
  #populated = false;
  /** Datagrams that did not decode (dropped). */
  badDatagrams = 0;
  /** Peers lookups returned, for the counters. */
  peersFound = 0;
  /** Contacts the bootstrap asked (saved and configured; set when bootstrap starts asking). */
  bootstrapContacts = 0;

  readonly #route: UdpRoute = {
    name: 'dht',
    accepts: (datagram) => datagram[0] === 0x64, // 'd': a bencoded dictionary
    receive: (datagram, from) => this.#receive(datagram, from.address, from.port),
  };

  constructor(
    udp: UdpSocket,
    options: DhtOptions,
    store: DhtStateStore | undefined,
    clock: Clock = systemClock,
    resolveHost: ResolveHost = resolveWithDns,
  ) {
    super();
    this.#resolveHost = resolveHost;
    this.#udp = udp;
    this.#options = options;
    this.#clock = clock;
    this.#store = store;
  }

  /** Our UDP port (the BEP 5 `port` message). */
  get port(): number {
    return this.#udp.address().port;
  }

  get ready(): boolean {
    return this.#ready;
  }

  /**
   * Loads the saved table (a corrupt one is a warning and an empty table), starts answering and
   * bootstraps in the background; resolves once the node runs (not when bootstrap ends: `ready`).
   */
  async start(): Promise<void> {
    let saved: { id: Uint8Array; nodes: NodeContact[] } | undefined;
    try {
      const bytes = await this.#store?.load();
      if (bytes !== undefined) saved = decodeDhtState(bytes);
    } catch (error) {
      this.emit('warning', {
        message: `ignoring the saved DHT state: ${error instanceof Error ? error.message : String(error)}`,
      });
    }
    if (this.#closed) return;
    this.#node = new DhtNode({
      clock: this.#clock,
      random: randomBytes,
      ...(saved ? { id: saved.id } : {}),
      // BEP 42: once three responders agree on our public IP, an id not secure for it is replaced
      // (the saved one too); loopback and private addresses are exempt.
      secureId: true,
      // BEP 32: one lookup per family the socket has (both when it listens on IPv4 and IPv6).
      families: [
        ...(this.#udp.hasFamily('IPv4') ? [4 as const] : []),
        ...(this.#udp.hasFamily('IPv6') ? [6 as const] : []),
      ],
      send: (message, to) => {
        try {
          this.#udp.send(encodeKrpc(message), to.port, to.host);
        } catch {
          // an unencodable message or a closed socket: that query times out like a lost datagram
        }
      },
    });
    this.#udp.addRoute(this.#route);
    this.#armSave();
    void this.#bootstrap(saved?.nodes ?? []);
  }

  async #bootstrap(saved: NodeContact[]): Promise<void> {
    try {
      // Warnings on the first attempt only: an offline machine is told once, not every minute.
      const warn = this.#ready ? undefined : (message: string) => this.emit('warning', { message });
      const context = {
        hasFamily: (family: 'IPv4' | 'IPv6') => this.#udp.hasFamily(family),
        resolve: this.#resolveHost,
        ...(warn ? { warn } : {}),
      };
      // A host name gives all its addresses (A and AAAA, a few each), each asked in its family.
      const resolved = await Promise.all(
        (this.#options.bootstrap ?? [])
          .slice(0, MAX_BOOTSTRAP)
          .map((entry) => bootstrapContacts(entry, context)),
      );
      if (this.#closed) return;
      const configured = dedupe(resolved.flat()).slice(0, MAX_BOOTSTRAP);
      // The saved table first, but the configured nodes are always among those asked.
      const fromTable = saved.slice(0, MAX_BOOTSTRAP - configured.length);
      const contacts = dedupe([...fromTable, ...configured]);
      this.bootstrapContacts = contacts.length;
      await this.#node?.bootstrap(contacts);
    } catch {
      // bootstrap settles on its own; whatever went wrong, the node runs on and retries below
    }
    if (this.#closed) return;
    const nodes = this.#node?.stats().nodes ?? 0;
    if (!this.#ready) {
      this.#ready = true;
      this.emit('ready', { nodes });
    }
    // Nobody answered (offline, routers down): an empty table never fills by itself, so try again.
    if (nodes === 0)
      this.#retryTimer = this.#clock.setTimeout(() => void this.#bootstrap(saved), BOOTSTRAP_RETRY_MS);
  }

  /** Iterative get_peers for `infoHash`; found peers go to `onPeers` as they come. `signal` ends it (rejects). */
  async getPeers(
    infoHash: Uint8Array,
    onPeers: (peers: PeerAddress[]) => void,
    signal?: AbortSignal,
  ): Promise<GetPeersResult | undefined> {
    if (!this.#node || this.#closed) return undefined;
    return this.#node.getPeers(infoHash, {
      onPeers: (peers) => this.#found(peers, onPeers),
      ...(signal ? { signal } : {}),
    });
  }

  /** Resolves once bootstrap is over (true), or false when `signal` ends the wait first or the DHT closes. */
  whenReady(signal?: AbortSignal): Promise<boolean> {
    if (this.#ready) return Promise.resolve(true);
    if (this.#closed || signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (ready: boolean): void => {
        this.off('ready', onReady);
        signal?.removeEventListener('abort', onAbort);
        resolve(ready);
      };
      const onReady = (): void => done(true);
      const onAbort = (): void => done(false);
      this.once('ready', onReady);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** get_peers, then announce_peer with `port` (our TCP port; implied when it is the UDP port). */
  async announce(
    infoHash: Uint8Array,
    port: number,
    onPeers: (peers: PeerAddress[]) => void,
  ): Promise<GetPeersResult | undefined> {
    if (!this.#node || this.#closed) return undefined;
    // Peers go to `onPeers` as each get_peers response brings them, not when the lookup ends.
    return this.#node.announce(infoHash, port, {
      impliedPort: port === this.port,
      onPeers: (peers) => this.#found(peers, onPeers),
    });
  }

  #found(peers: PeerAddress[], onPeers: (peers: PeerAddress[]) => void): void {
    if (peers.length === 0) return;
    this.peersFound += peers.length;
    onPeers(peers);
  }

  /**
   * The torrents' view of this DHT: the first round starts as soon as the routing table holds a
   * node (not when bootstrap ends: on a table full of dead nodes that is seconds later), and when
   * bootstrap ends another runs at once if the first found nobody or ran on a thin table.
   */
  forTorrent(): SessionDht {
    return {
      port: this.port,
      nodeHeard: (host, port) => this.nodeHeard(host, port),
      track: (infoHash: Uint8Array, hooks: DhtTrackHooks) => {
        const rounds = new DhtTorrentRounds(
          this.#clock,
          async (hash, port, onPeers) => {
            const result =
              port > 0 ? await this.announce(hash, port, onPeers) : await this.getPeers(hash, onPeers);
            return result?.peers.length ?? 0;
          },
          infoHash,
          hooks,
        );
        // A first round before bootstrap ended, on fewer nodes than one bucket, is run again then.
        let thinStart = false;
        const begin = (): void => {
          thinStart = !this.#ready && (this.#node?.stats().nodes ?? 0) < THIN_TABLE_NODES;
          rounds.start();
        };
        const again = (): void => rounds.again(thinStart);
        if (this.#populated) begin();
        else this.once('populated', begin);
        if (!this.#ready) this.once('ready', again);
        return () => {
          this.off('populated', begin);
          this.off('ready', again);
          rounds.stop();
        };
      },
    };
  }

  /** A peer told us its DHT port (BEP 5 `port` message): ping it, so it may join the table. */
  nodeHeard(host: string, port: number): void {
    if (this.#closed || port < 1 || port > 65535) return;
    this.#node?.ping({ host, port });
  }

  stats(): ClientDhtStats | undefined {
    const stats = this.#node?.stats();
    return stats ? { ...stats, peersFound: this.peersFound, badDatagrams: this.badDatagrams } : undefined;
  }

  /** Saves the table now (no-op without a store). */
  async save(): Promise<void> {
    const node = this.#node;
    if (!this.#store || !node) return;
    const bytes = encodeDhtState({ id: node.id, nodes: node.nodes(), savedAt: Date.now() });
    await this.#store.save(bytes);
  }

  /** Stops answering and querying; saves the table (errors become a warning). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#clock.clearTimeout(this.#saveTimer);
    this.#clock.clearTimeout(this.#retryTimer);
    this.#udp.removeRoute(this.#route);
    try {
      await this.save();
    } catch (error) {
      this.emit('warning', {
        message: `could not save the DHT state: ${error instanceof Error ? error.message : String(error)}`,
      });
    }
    this.#node?.close();
  }

  #armSave(): void {
    if (!this.#store) return;
    this.#saveTimer = this.#clock.setTimeout(() => {
      if (this.#closed) return;
      this.save().catch((error: unknown) =>
        this.emit('warning', {
          message: `could not save the DHT state: ${error instanceof Error ? error.message : String(error)}`,
        }),
      );
      this.#armSave();
    }, this.#options.saveIntervalMs ?? 600_000);
  }

  /** One datagram: bounded work (the codec refuses more than a datagram's worth), never a throw. */
  #receive(datagram: Buffer, host: string, port: number): void {
    const node = this.#node;
    if (!node || this.#closed) return;
    if (datagram.length > MAX_KRPC_DATAGRAM * 2) {
      this.badDatagrams++;
      return;
    }
    const from = { host: unmapped(host), port };
    try {
      let message: ReturnType<typeof decodeKrpc>;
      try {
        message = decodeKrpc(datagram);
      } catch (error) {
        this.badDatagrams++;
        // A query the codec refused gets KRPC error 203 (within the amplification bound).
        if (error instanceof DhtError) node.receiveMalformed(error, from, datagram.length);
        return;
      }
      node.receive(message, from, datagram.length);
      if (!this.#populated && node.table.size > 0) {
        this.#populated = true;
        this.emit('populated', { nodes: node.table.size });
      }
    } catch {
      // A bug in handling one message must not reach the host process (the DHT is optional).
      this.badDatagrams++;
    }
  }
}

const randomBytes = (length: number): Uint8Array => randomFillSync(new Uint8Array(length));

/** `::ffff:1.2.3.4` → `1.2.3.4`. */
function unmapped(host: string): string {
  return host.startsWith('::ffff:') && host.includes('.') ? host.slice(7) : host;
}

function dedupe(contacts: { host: string; port: number }[]): { host: string; port: number }[] {
  const seen = new Set<string>();
  return contacts.filter(({ host, port }) => {
    const key = `${host}|${port}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
