/**
 * Every error the library throws on purpose is a LodestoneError with a stable
 * `code`, so callers (and the CLI) can branch on it without parsing messages.
 */
export type ErrorCode =
  | 'LODESTONE_ERR_BENCODE'
  | 'LODESTONE_ERR_METAINFO'
  | 'LODESTONE_ERR_UNSAFE_PATH'
  | 'LODESTONE_ERR_UNSUPPORTED'
  | 'LODESTONE_ERR_MAGNET'
  | 'LODESTONE_ERR_WIRE'
  | 'LODESTONE_ERR_MSE'
  | 'LODESTONE_ERR_UTP'
  | 'LODESTONE_ERR_DHT_MALFORMED'
  | 'LODESTONE_ERR_DHT_STATE'
  | 'LODESTONE_ERR_TRACKER'
  | 'LODESTONE_ERR_STORAGE'
  | 'LODESTONE_ERR_DISK_FULL'
  | 'LODESTONE_ERR_METADATA'
  | 'LODESTONE_ERR_NO_PEER_SOURCE'
  | 'LODESTONE_ERR_ABORTED'
  | 'LODESTONE_ERR_USAGE'
  | 'LODESTONE_ERR_IO'
  | 'LODESTONE_ERR_INTERNAL'
  | 'LODESTONE_ERR_RESUME_RECORD'
  | 'LODESTONE_ERR_DAEMON_SETTINGS'
  | 'LODESTONE_ERR_DAEMON_TORRENT'
  | 'LODESTONE_ERR_DAEMON_STATE'
  | 'LODESTONE_ERR_RPC';

/** The base class of every error Lodestone throws or emits on purpose. */
export class LodestoneError extends Error {
  /** Stable code to branch on (`LODESTONE_ERR_*`); messages may change, codes do not. */
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Malformed or hostile bencoded data; `offset` is the byte where decoding stopped. */
export class BencodeError extends LodestoneError {
  /** Byte offset in the input where decoding stopped. */
  readonly offset: number;
  constructor(message: string, offset: number) {
    super('LODESTONE_ERR_BENCODE', `${message} at byte ${offset}`);
    this.offset = offset;
  }
}

/** A torrent file that is well-formed bencode but not a valid torrent. */
export class MetainfoError extends LodestoneError {
  constructor(message: string, code: ErrorCode = 'LODESTONE_ERR_METAINFO') {
    super(code, message);
  }
}

/** A magnet link that cannot be used (no `xt`, bad info-hash, bad `x.pe`). */
export class MagnetError extends LodestoneError {
  constructor(message: string) {
    super('LODESTONE_ERR_MAGNET', message);
  }
}

/** A peer broke the wire protocol; the connection is dropped, never the process. */
export class WireError extends LodestoneError {
  constructor(message: string) {
    super('LODESTONE_ERR_WIRE', message);
  }
}

/** An announce failed: network, timeout, bad response or the tracker's `failure reason`. */
export class TrackerError extends LodestoneError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('LODESTONE_ERR_TRACKER', message, options);
  }
}

/** Reading or writing the files failed (`LODESTONE_ERR_DISK_FULL` when the disk is full). */
export class StorageError extends LodestoneError {
  constructor(message: string, code: ErrorCode = 'LODESTONE_ERR_STORAGE', options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/**
 * A daemon request that cannot be done: an invalid setting (`LODESTONE_ERR_DAEMON_SETTINGS`), an
 * unknown torrent or an action it cannot take (`LODESTONE_ERR_DAEMON_TORRENT`), an unreadable
 * state folder (`LODESTONE_ERR_DAEMON_STATE`), a malformed RPC request (`LODESTONE_ERR_RPC`).
 */
export class DaemonError extends LodestoneError {
  constructor(
    code:
      | 'LODESTONE_ERR_DAEMON_SETTINGS'
      | 'LODESTONE_ERR_DAEMON_TORRENT'
      | 'LODESTONE_ERR_DAEMON_STATE'
      | 'LODESTONE_ERR_RPC',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

/** Narrows `unknown` (a `catch` binding) to a {@link LodestoneError}. */
export function isLodestoneError(error: unknown): error is LodestoneError {
  return error instanceof LodestoneError;
}
