import { isLodestoneError } from '../index.js';

/** Process exit codes, stable so scripts can rely on them (documented in the README). */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  badInput: 3,
  io: 4,
  incomplete: 5,
  /** `doctor`: no peer with the data (a magnet: the metadata) was reachable. */
  unhealthy: 6,
  interrupted: 130,
} as const;

export function exitCodeFor(error: unknown): number {
  if (!isLodestoneError(error)) return ExitCode.failure;
  switch (error.code) {
    case 'LODESTONE_ERR_USAGE':
    case 'LODESTONE_ERR_DAEMON_SETTINGS':
      return ExitCode.usage;
    case 'LODESTONE_ERR_BENCODE':
    case 'LODESTONE_ERR_METAINFO':
    case 'LODESTONE_ERR_UNSAFE_PATH':
    case 'LODESTONE_ERR_UNSUPPORTED':
    case 'LODESTONE_ERR_MAGNET':
      return ExitCode.badInput;
    case 'LODESTONE_ERR_STORAGE':
    case 'LODESTONE_ERR_DISK_FULL':
    case 'LODESTONE_ERR_IO':
      return ExitCode.io;
    case 'LODESTONE_ERR_NO_PEER_SOURCE':
    case 'LODESTONE_ERR_METADATA':
      return ExitCode.incomplete;
    case 'LODESTONE_ERR_ABORTED':
      return ExitCode.interrupted;
    default:
      return ExitCode.failure;
  }
}
