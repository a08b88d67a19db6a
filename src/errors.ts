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
  | 'LODESTONE_ERR_TRACKER'
  | 'LODESTONE_ERR_STORAGE'
  | 'LODESTONE_ERR_DISK_FULL'
  | 'LODESTONE_ERR_METADATA'
  | 'LODESTONE_ERR_NO_PEER_SOURCE'
  | 'LODESTONE_ERR_ABORTED'
  | 'LODESTONE_ERR_USAGE'
  | 'LODESTONE_ERR_IO'
  | 'LODESTONE_ERR_INTERNAL';

export class LodestoneError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Malformed or hostile bencoded data; `offset` is the byte where decoding stopped. */
export class BencodeError extends LodestoneError {
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

export class TrackerError extends LodestoneError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('LODESTONE_ERR_TRACKER', message, options);
  }
}

export class StorageError extends LodestoneError {
  constructor(message: string, code: ErrorCode = 'LODESTONE_ERR_STORAGE', options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

export function isLodestoneError(error: unknown): error is LodestoneError {
  return error instanceof LodestoneError;
}
