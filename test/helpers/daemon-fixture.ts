/** A Daemon in-process on loopback, its state and download folders in a temp folder, and seeders to feed it. */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { PeerAddress } from '../../src/address.js';
import { encode } from '../../src/bencode/index.js';
import { Daemon, type DaemonOptions } from '../../src/daemon/daemon.js';
import type { DaemonTorrent } from '../../src/daemon/daemon-api.js';
import { parseTorrent, type TorrentMetadata } from '../../src/metainfo/index.js';
import type { AnnounceRequest, AnnounceResponse, TrackerClient } from '../../src/tracker/types.js';
import { pieceHashesOf } from './piece-hashes.js';

export const FAKE_TRACKER = 'http://127.0.0.1:9/announce';

/** A single-file torrent of `data` announcing to {@link FAKE_TRACKER}, with its `.torrent` bytes. */
export function trackedTorrentOf(
  name: string,
  data: Uint8Array,
  pieceLength = 16 * 1024,
): { meta: TorrentMetadata; bytes: Uint8Array } {
  const bytes = encode({
    announce: FAKE_TRACKER,
    info: {
      name,
      'piece length': pieceLength,
      pieces: pieceHashesOf(data, pieceLength),
      length: data.length,
    },
  });
  return { meta: parseTorrent(bytes), bytes };
}

/** Announces seen by the in-process tracker, and the peers it hands out per info-hash. */
export class FakeTracker {
  readonly announces: { infoHash: string; event: string | undefined }[] = [];
  readonly peers = new Map<string, PeerAddress[]>();

  client = (url: string): TrackerClient => ({
    url,
    announce: async (request: AnnounceRequest): Promise<AnnounceResponse> => {
      const infoHash = Buffer.from(request.infoHash).toString('hex');
      this.announces.push({ infoHash, event: request.event });
      return { interval: 1800, peers: this.peers.get(infoHash) ?? [] };
    },
    close: () => undefined,
  });
}

export interface DaemonFixture {
  root: string;
  stateDir: string;
  downloadDir: string;
  tracker: FakeTracker;
  logs: { level: string; message: string }[];
  open(extra?: Partial<DaemonOptions>): Promise<Daemon>;
}

export async function daemonFixture(t: TestContext, host: string): Promise<DaemonFixture> {
  const root = await mkdtemp(join(tmpdir(), 'lodestone-daemon-'));
  const opened: Daemon[] = [];
  t.after(async () => {
    for (const daemon of opened) await daemon.close().catch(() => undefined);
    await rm(root, { recursive: true, force: true });
  });
  const fixture: DaemonFixture = {
    root,
    stateDir: join(root, 'state'),
    downloadDir: join(root, 'downloads'),
    tracker: new FakeTracker(),
    logs: [],
    open: async (extra = {}) => {
      const daemon = await Daemon.open({
        stateDir: fixture.stateDir,
        home: root,
        overrides: {
          'download-dir': fixture.downloadDir,
          'peer-port': 0,
          'bind-address-ipv4': host,
          'dht-enabled': false,
          'utp-enabled': false,
        },
        client: { hashWorkers: 1, createTrackerClient: fixture.tracker.client },
        log: (level, message) => fixture.logs.push({ level, message }),
        ...extra,
      });
      opened.push(daemon);
      return daemon;
    },
  };
  return fixture;
}

/** Polls `predicate` until it holds; fails with `what` after `timeoutMs`. */
export async function until(what: string, predicate: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export function seeding(torrent: DaemonTorrent): boolean {
  return torrent.summary().status === 'seeding';
}

export function randomData(size: number): Buffer {
  return randomBytes(size);
}
