/**
 * What every real-client helper shares: the handle type, the errors, defaults.
 * Processes live in process.ts, ports/addresses/HTTP in net.ts.
 */
/** A real BitTorrent client running on its own loopback address. */
/** Where a real client seeds from: what every seeder helper takes. */
export interface SeederPlacement {
  torrentPath: string;
  /** Folder that already holds the content (the torrent's `name` inside it). */
  dataDir: string;
  /** Loopback address to listen and announce on, e.g. from nextLoopbackAddress(). */
  address: string;
  /** BitTorrent port. @default a free port on `address` */
  port?: number;
}

/** What a real client downloads and where: what every leecher helper takes. */
export interface LeecherPlacement {
  /** Exactly one of torrentPath and magnet. */
  torrentPath?: string;
  magnet?: string;
  /** Where the download goes. */
  outDir: string;
  address: string;
  port?: number;
}

export interface RealClientHandle {
  readonly name: string;
  readonly pid: number;
  /** Loopback address it listens on and announces from, e.g. '127.57.0.10'. */
  readonly address: string;
  /** Its BitTorrent listen port on `address`. */
  readonly port: number;
  /** The temp folder holding its profile and `client.log` (removed by stop()). */
  readonly dir: string;
  readonly logPath: string;
  /** Resolves once the client reports the torrent 100 % verified and seeding. */
  waitSeeding(timeoutMs?: number): Promise<void>;
  /** Leechers only: resolves once every byte is downloaded and verified. */
  waitComplete?(timeoutMs?: number): Promise<void>;
  /** Bytes verified so far and the torrent's size (0 while metadata is unknown). */
  progress(): Promise<{ completedBytes: number; totalBytes: number }>;
  /**
   * Announces to the tracker now (Transmission, qBittorrent), so the client
   * learns about peers that announced after it. aria2 has no such call: start
   * it with a short `--bt-tracker-interval` instead.
   */
  reannounce?(): Promise<void>;
  /** SIGTERM, SIGKILL after 3 s, then removes `dir`. Idempotent. */
  stop(): Promise<void>;
}

export interface RealLeecherHandle extends RealClientHandle {
  waitComplete(timeoutMs?: number): Promise<void>;
}

export class RealClientError extends Error {
  override readonly name = 'RealClientError';
  /** Start-up failed in a way other ports may fix (the process died, or could not bind its port). */
  readonly retriable: boolean;
  constructor(message: string, options: { retriable?: boolean; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.retriable = options.retriable ?? false;
  }
}

/** A client state that will never turn into success (error, missing files): stop waiting at once. */
export class FatalClientState extends Error {
  override readonly name = 'FatalClientState';
}

/** How long waitSeeding()/waitComplete() wait when given no timeout. */
export const DEFAULT_WAIT_MS = 60_000;

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
