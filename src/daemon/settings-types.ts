/**
 * The daemon's settings, named as in Transmission's `settings.json` wherever the meaning is the
 * same, so a Transmission user can bring theirs (docs/daemon.md lists each key and its default).
 * Units are Transmission's: speeds in kB/s (1000 bytes), times of day in minutes after midnight.
 * The RPC's `session-get`/`session-set` use the same names (the RPC layer converts `encryption`
 * between this number and Transmission's RPC strings).
 */
export interface DaemonSettings {
  'download-dir': string;
  /** Start a torrent as soon as it is added (unless the add asks for `paused`). */
  'start-added-torrents': boolean;

  'peer-port': number;
  'bind-address-ipv4': string;
  'bind-address-ipv6': string;
  'peer-limit-global': number;
  'peer-limit-per-torrent': number;
  'upload-slots-per-torrent': number;
  /** 0 = prefer plaintext (accept encrypted), 1 = prefer encryption, 2 = require encryption. */
  encryption: 0 | 1 | 2;
  'dht-enabled': boolean;
  'pex-enabled': boolean;
  'utp-enabled': boolean;
  /** Local peer discovery: not implemented; kept false (true is reported as unsupported). */
  'lpd-enabled': boolean;
  /** UPnP/NAT-PMP: not implemented; kept false (true is reported as unsupported). */
  'port-forwarding-enabled': boolean;

  'speed-limit-down': number;
  'speed-limit-down-enabled': boolean;
  'speed-limit-up': number;
  'speed-limit-up-enabled': boolean;
  /** The alternative ("turtle") limits, on by hand or by the schedule below. */
  'alt-speed-down': number;
  'alt-speed-up': number;
  'alt-speed-enabled': boolean;
  'alt-speed-time-enabled': boolean;
  'alt-speed-time-begin': number;
  'alt-speed-time-end': number;
  /** Days the schedule applies: a bit mask, Sunday = 1, Monday = 2 … Saturday = 64; 127 = every day. */
  'alt-speed-time-day': number;

  'download-queue-enabled': boolean;
  'download-queue-size': number;
  'seed-queue-enabled': boolean;
  'seed-queue-size': number;
  'queue-stalled-enabled': boolean;
  'queue-stalled-minutes': number;
  /** Seeding stops at this upload/download ratio when enabled (RPC: `seedRatioLimit`/`seedRatioLimited`). */
  'ratio-limit': number;
  'ratio-limit-enabled': boolean;
  'idle-seeding-limit': number;
  'idle-seeding-limit-enabled': boolean;

  'rpc-enabled': boolean;
  'rpc-port': number;
  'rpc-bind-address': string;
  'rpc-url': string;
  'rpc-authentication-required': boolean;
  'rpc-username': string;
  /** Stored hashed (`{` + salted hash, as Transmission does); a plain value is hashed when saved. */
  'rpc-password': string;
  /** Comma-separated client addresses (with `*` wildcards) allowed when the whitelist is enabled. */
  'rpc-whitelist': string;
  'rpc-whitelist-enabled': boolean;
  /** Comma-separated host names allowed in the Host header besides loopback addresses and `localhost`. */
  'rpc-host-whitelist': string;
  'rpc-host-whitelist-enabled': boolean;

  /** Read cache bound for all torrents, in MiB. */
  'cache-size-mb': number;
  /**
   * Lodestone's: the most torrent data files open at once in the process (the shared handle pool,
   * least recently used closed first; idle handles close after 10 s). Transmission 2.x's key name.
   */
  'open-file-limit': number;
  /** Log level on stderr: 0 none, 1 error, 2 info, 3 debug (Transmission's `message-level`). */
  'message-level': number;
}
