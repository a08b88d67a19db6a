import { randomInt } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import { formatAddress, type PeerAddress } from '../address.js';
import { Bitfield } from '../bitfield.js';
import { type Clock, systemClock } from '../clock.js';
import { LodestoneError } from '../errors.js';
import type { MagnetLink, TorrentMetadata } from '../metainfo/types.js';
import type { EncryptionPolicy } from '../net/mse/policy.js';
import type { UtpDialer } from '../peer/dial-transport.js';
import { createTrackerClient } from '../tracker/create-tracker.js';
import type { TrackerClient } from '../tracker/types.js';
import { reservedBits } from '../wire/index.js';
import type { DoctorPeer, DoctorReport, DoctorSource } from './doctor-report.js';
import { probePeer } from './peer-probe.js';
import { DHT_LABEL, dhtNotUsed, type ProbeDht, probeDht } from './probe-dht.js';

/** What a probe looks at: a parsed torrent, or a magnet link (metadata unknown). */
export type DiscoveryTarget =
  | { kind: 'torrent'; meta: TorrentMetadata }
  | { kind: 'magnet'; link: MagnetLink };

export interface DiscoveryProbeOptions {
  target: DiscoveryTarget;
  /** Our 20-byte peer id (handshakes, announces). */
  peerId: Buffer;
  /** Our listen port, told to trackers (0 when not listening). */
  port: number;
  /** The hard bound on the whole probe, in ms: it resolves by then, whatever is still pending. */
  timeMs: number;
  /** Extra peers to probe (`--peer`). */
  peers?: PeerAddress[];
  /** Ask the trackers. @default true */
  useTrackers?: boolean;
  /** @default 'prefer' */
  encryption?: EncryptionPolicy;
  /** Dials over uTP first (TCP after a delay); without it, TCP only. */
  utp?: UtpDialer | undefined;
  /** Local address to dial and announce from. */
  bindAddress?: string | undefined;
  /** @default HTTP or UDP by scheme, from `bindAddress` */
  createTrackerClient?: ((url: string) => TrackerClient) | undefined;
  /** Peers probed at once. @default 20 */
  concurrency?: number;
  /** Most distinct peer addresses probed (others are counted by their sources only). @default 200 */
  maxPeers?: number;
  /** @default 10000 */
  connectTimeoutMs?: number;
  /** @default 10000 */
  handshakeTimeoutMs?: number;
  /** After a handshake, how long to wait for the peer's bitfield and extension handshake. @default 3000 */
  observeMs?: number;
  /** Time the `stopped` announces get after the probe's end. @default 2000 */
  stoppedGraceMs?: number;
  /** Peers asked of each tracker. @default 200 */
  numwant?: number;
  /** The DHT to ask (get_peers for the info-hash, not for a private torrent); without it the DHT is `not-used`. */
  dht?: ProbeDht | undefined;
  /** Why there is no `dht` (the source's note). @default 'off (the client runs without the DHT)' */
  dhtOffNote?: string;
  /** @default systemClock */
  clock?: Clock;
}

/** Tracker announces in flight at once (the rest wait their turn; not reached by the bound: no answer). */
const TRACKERS_IN_FLIGHT = 16;

const PEX_LABEL = 'PEX';
/**
 * Peers whose first ut_pex message the probe waits for (within the observation window: libtorrent
 * sends its list about a second after the extension handshake, when it has other peers). Past
 * that, PEX lists are still read when they come, but nobody is held for one.
 */
const PEX_LISTS_AWAITED = 5;

interface TrackerRun {
  source: DoctorSource;
  client: TrackerClient | undefined;
}

/**
 * Runs the discovery of one torrent for a bounded time without downloading anything: announces to
 * every tracker URL of every tier (not just the first that answers: the point is to see each one),
 * probes every peer address found (`concurrency` at a time), sends `stopped` to the trackers that
 * answered, and resolves with the report by `timeMs` (+ the `stopped` grace). Never rejects on
 * what remote parties do; `signal` ends it early (the report says what was seen).
 */
export async function runDiscoveryProbe(
  options: DiscoveryProbeOptions,
  signal?: AbortSignal,
): Promise<DoctorReport> {
  const clock = options.clock ?? systemClock;
  const startedAt = clock.now();
  const target = options.target;
  const infoHash = target.kind === 'torrent' ? target.meta.infoHash : target.link.infoHash;
  if (!infoHash)
    throw new LodestoneError(
      'LODESTONE_ERR_UNSUPPORTED',
      'v2-only magnet links (urn:btmh) are not supported yet',
    );
  const pieceCount = target.kind === 'torrent' ? target.meta.pieceCount : undefined;
  const stop = new AbortController();
  const onOuterAbort = (): void => stop.abort();
  signal?.addEventListener('abort', onOuterAbort, { once: true });
  const deadline = clock.setTimeout(() => stop.abort(), options.timeMs);

  const peers = new Map<string, { address: PeerAddress; peer: DoctorPeer }>();
  const queue: string[] = [];
  const sources: DoctorSource[] = [];
  const maxPeers = options.maxPeers ?? 200;
  const concurrency = options.concurrency ?? 20;
  let active = 0;
  let pendingTrackers = 0;
  let pendingDht = false;
  const union = pieceCount === undefined ? undefined : new Bitfield(pieceCount);
  // PEX (BEP 11): the peers probed are asked for their list (never for a private torrent, BEP 27).
  const pexAllowed = !(target.kind === 'torrent' && target.meta.private);
  const pexSource: DoctorSource = pexAllowed
    ? { kind: 'pex', label: PEX_LABEL, status: 'not-used', peers: 0 }
    : { kind: 'pex', label: PEX_LABEL, status: 'not-used', peers: 0, note: 'not used: private torrent' };
  const pex = { offered: 0, sent: 0, learned: new Set<string>() };
  const localHandshake = {
    reserved: reservedBits({ extensionProtocol: true, fastExtension: true }),
    infoHash,
    peerId: options.peerId,
  };

  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  stop.signal.addEventListener('abort', () => finish(), { once: true });
  const checkDone = (): void => {
    if (pendingTrackers === 0 && !pendingDht && active === 0 && queue.length === 0) finish();
  };

  const probeNext = (): void => {
    while (active < concurrency && queue.length > 0 && !stop.signal.aborted) {
      const entry = peers.get(queue.shift()!)!;
      active++;
      // A dial never outlives the probe: its timeouts end by the deadline (sockets still
      // connecting would otherwise keep the process alive past --time).
      const remaining = Math.max(1, startedAt + options.timeMs - clock.now());
      probePeer(entry.address, {
        localHandshake,
        ...(pieceCount !== undefined ? { pieceCount } : {}),
        encryption: options.encryption ?? 'prefer',
        utp: options.utp,
        bindAddress: options.bindAddress,
        connectTimeoutMs: Math.min(options.connectTimeoutMs ?? 10_000, remaining),
        handshakeTimeoutMs: Math.min(options.handshakeTimeoutMs ?? 10_000, remaining),
        observeMs: options.observeMs ?? 3000,
        clock,
        signal: stop.signal,
        pex: pexAllowed ? { wait: () => pex.sent < PEX_LISTS_AWAITED } : undefined,
      }).then(({ peer, bits, pex: told }) => {
        active--;
        entry.peer = { ...peer, sources: entry.peer.sources };
        if (bits && union && !peer.failure) for (let i = 0; i < bits.size; i++) if (bits.has(i)) union.set(i);
        if (told?.supported) pex.offered++;
        if (told?.sent) pex.sent++;
        for (const address of told?.added ?? []) {
          pex.learned.add(formatAddress(address));
          addPeer(address, PEX_LABEL);
        }
        probeNext();
        checkDone();
      });
    }
  };

  const self = ownAddresses(options.bindAddress);
  const addPeer = (address: PeerAddress, label: string): void => {
    // Trackers list us too (we announced our port): we do not probe ourselves.
    if (options.port > 0 && address.port === options.port && self.has(address.host)) return;
    const key = formatAddress(address);
    const known = peers.get(key);
    if (known) {
      if (!known.peer.sources.includes(label)) known.peer.sources.push(label);
      return;
    }
    if (peers.size >= maxPeers) return;
    peers.set(key, { address, peer: { address: key, sources: [label], handshake: false } });
    queue.push(key);
  };

  // Addresses known up front.
  if (target.kind === 'magnet' && target.link.peers.length > 0) {
    sources.push({
      kind: 'magnet-peers',
      label: 'x.pe',
      status: 'answered',
      peers: target.link.peers.length,
    });
    for (const address of target.link.peers) addPeer(address, 'x.pe');
  }
  if (options.peers && options.peers.length > 0) {
    sources.push({ kind: 'manual-peers', label: '--peer', status: 'answered', peers: options.peers.length });
    for (const address of options.peers) addPeer(address, '--peer');
  }

  // Every tracker URL of every tier, at once.
  const tiers: string[][] =
    options.useTrackers === false
      ? []
      : target.kind === 'torrent'
        ? target.meta.announceTiers
        : target.link.trackers.map((url) => [url]);
  const trackers: TrackerRun[] = [];
  const key = randomInt(0, 0x7fff_ffff);
  const left = target.kind === 'torrent' ? target.meta.totalLength : 16_384;
  const makeClient = options.createTrackerClient ?? defaultTrackerClient(options.bindAddress);
  const seen = new Set<string>();
  const waiting: DoctorSource[] = [];
  tiers.forEach((tier, tierIndex) => {
    for (const url of tier) {
      if (seen.has(url)) continue;
      seen.add(url);
      const source: DoctorSource = {
        kind: 'tracker',
        label: url,
        status: 'no-answer',
        peers: 0,
        tier: tierIndex,
      };
      sources.push(source);
      waiting.push(source);
    }
  });
  let trackersInFlight = 0;
  pendingTrackers = waiting.length;
  // A few announces at once, however many trackers the torrent lists (issue 15: thousands).
  const announceNext = (): void => {
    while (trackersInFlight < TRACKERS_IN_FLIGHT && waiting.length > 0 && !stop.signal.aborted) {
      const source = waiting.shift()!;
      const url = source.label;
      let client: TrackerClient;
      try {
        client = makeClient(url);
      } catch (error) {
        source.status = 'failed';
        source.error = error instanceof Error ? error.message : String(error);
        pendingTrackers--;
        continue;
      }
      trackers.push({ source, client });
      trackersInFlight++;
      const asked = clock.now();
      client
        .announce({
          infoHash,
          peerId: options.peerId,
          port: options.port,
          uploaded: 0,
          downloaded: 0,
          left,
          event: 'started',
          numwant: options.numwant ?? 200,
          key,
          signal: stop.signal,
        })
        .then(
          (response) => {
            source.status = 'answered';
            source.peers = response.peers.length;
            source.intervalSeconds = response.interval;
            if (response.seeders !== undefined) source.seeders = response.seeders;
            if (response.leechers !== undefined) source.leechers = response.leechers;
            if (response.warning !== undefined) source.warning = response.warning;
            for (const address of response.peers) addPeer(address, url);
          },
          (error: unknown) => {
            // Aborted at the deadline: it simply did not answer in time.
            if (stop.signal.aborted) return;
            source.status = 'failed';
            source.error = error instanceof Error ? error.message : String(error);
          },
        )
        .finally(() => {
          if (source.status !== 'no-answer') source.latencyMs = clock.now() - asked;
          trackersInFlight--;
          pendingTrackers--;
          announceNext();
          probeNext();
          checkDone();
        });
    }
  };
  announceNext();

  // The DHT: bootstrap, then one get_peers lookup (BEP 27: never for a private torrent).
  if (target.kind === 'torrent' && target.meta.private) sources.push(dhtNotUsed('not used: private torrent'));
  else if (!options.dht)
    sources.push(dhtNotUsed(options.dhtOffNote ?? 'off (the client runs without the DHT)'));
  else {
    const source: DoctorSource = { kind: 'dht', label: DHT_LABEL, status: 'no-answer', peers: 0 };
    sources.push(source);
    pendingDht = true;
    const onPeers = (found: PeerAddress[]): void => {
      for (const address of found) addPeer(address, DHT_LABEL);
      probeNext();
    };
    void probeDht(options.dht, infoHash, source, onPeers, stop.signal).finally(() => {
      pendingDht = false;
      probeNext();
      checkDone();
    });
  }
  sources.push(pexSource);

  probeNext();
  checkDone();
  await finished;
  stop.abort();
  clock.clearTimeout(deadline);
  signal?.removeEventListener('abort', onOuterAbort);
  const durationMs = clock.now() - startedAt;
  if (pexAllowed)
    describePex(
      pexSource,
      pex,
      [...peers.values()].some(({ peer }) => peer.handshake),
    );
  // Peers whose turn never came (the time ran out first).
  for (const key of queue) {
    const entry = peers.get(key)!;
    entry.peer.failure = 'not-tried';
    entry.peer.message = 'the time ran out before this peer was tried';
  }
  await sendStopped(trackers, options, { infoHash, key, left, clock });

  const report: DoctorReport = {
    infoHash: Buffer.from(infoHash).toString('hex'),
    kind: target.kind,
    durationMs,
    timeLimitMs: options.timeMs,
    sources,
    peers: [...peers.values()].map(({ peer }) => peer),
  };
  const name = target.kind === 'torrent' ? target.meta.name : target.link.name;
  if (name !== undefined) report.name = name;
  if (pieceCount !== undefined && union) {
    report.pieceCount = pieceCount;
    report.piecesAvailable = union.count;
  }
  return report;
}

/**
 * The PEX source once the probe is over: `answered` when a peer sent its list (`peers`: distinct
 * addresses), `no-answer` when peers offer ut_pex but none sent a message in time, else `not-used`
 * (no peer connected, or none offers PEX).
 */
function describePex(
  source: DoctorSource,
  pex: { offered: number; sent: number; learned: Set<string> },
  connected: boolean,
): void {
  source.peers = pex.learned.size;
  if (pex.sent > 0) source.status = 'answered';
  else if (pex.offered > 0) {
    source.status = 'no-answer';
    // A peer with no other peer to name sends no list (libtorrent, Lodestone): not a failure.
    source.error = `${pex.offered} peer${pex.offered === 1 ? ' offers' : 's offer'} PEX, no list came in time`;
  } else {
    source.status = 'not-used';
    source.note = connected ? 'no connected peer offers PEX' : 'no peer connected to ask';
  }
}

/** We never downloaded: trackers that counted us are told we left, within a short grace. */
async function sendStopped(
  trackers: TrackerRun[],
  options: DiscoveryProbeOptions,
  request: { infoHash: Uint8Array; key: number; left: number; clock: Clock },
): Promise<void> {
  const answered = trackers.filter((t) => t.source.status === 'answered' && t.client);
  const abort = new AbortController();
  const timer = request.clock.setTimeout(() => abort.abort(), options.stoppedGraceMs ?? 2000);
  const stopped = (client: TrackerClient): Promise<unknown> =>
    client.announce({
      infoHash: Buffer.from(request.infoHash),
      peerId: options.peerId,
      port: options.port,
      uploaded: 0,
      downloaded: 0,
      left: request.left,
      event: 'stopped',
      numwant: 0,
      key: request.key,
      signal: abort.signal,
    });
  // A few at a time, within the grace; those not sent by then are not sent.
  const lanes = Array.from({ length: Math.min(TRACKERS_IN_FLIGHT, answered.length) }, async () => {
    for (let next = answered.shift(); next && !abort.signal.aborted; next = answered.shift())
      await stopped(next.client!).catch(() => {});
  });
  await Promise.all(lanes);
  request.clock.clearTimeout(timer);
  for (const tracker of trackers) tracker.client?.close();
}

function defaultTrackerClient(localAddress: string | undefined): (url: string) => TrackerClient {
  return (url) =>
    createTrackerClient(url, localAddress ? { http: { localAddress }, udp: { localAddress } } : {});
}

/** The addresses peers reach us on: the bind address, or every local interface's. */
function ownAddresses(bindAddress: string | undefined): Set<string> {
  if (bindAddress !== undefined) return new Set([bindAddress]);
  const own = new Set(['127.0.0.1', '::1']);
  for (const list of Object.values(networkInterfaces())) for (const info of list ?? []) own.add(info.address);
  return own;
}
