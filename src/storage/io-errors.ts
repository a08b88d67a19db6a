import { LodestoneError, StorageError } from '../errors.js';

export type IoAction = 'read' | 'write' | 'create';

function errnoCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const { code } = error as { code: unknown };
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

/** Whether `error` is a Node system error for a missing file or folder. */
export function isMissingFile(error: unknown): boolean {
  const code = errnoCode(error);
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/**
 * Turns a Node file-system error into a StorageError with a stable code and a
 * message a user can act on (which file, what went wrong). The original error
 * stays available as `cause`.
 */
export function toStorageError(error: unknown, path: string, action: IoAction): LodestoneError {
  if (error instanceof LodestoneError) return error;
  const code = errnoCode(error);
  const options = { cause: error };
  const verb = action === 'read' ? 'read' : 'write to';
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return new StorageError(
        `disk full: no space left to write ${path} (free some space, then resume)`,
        'LODESTONE_ERR_DISK_FULL',
        options,
      );
    case 'EACCES':
    case 'EPERM':
      return new StorageError(`cannot ${verb} ${path}: permission denied`, 'LODESTONE_ERR_IO', options);
    case 'EROFS':
      return new StorageError(`cannot ${verb} ${path}: read-only file system`, 'LODESTONE_ERR_IO', options);
    case 'ENOENT':
    case 'ENOTDIR':
      return new StorageError(`missing file ${path}`, 'LODESTONE_ERR_STORAGE', options);
    case 'EISDIR':
      return new StorageError(`cannot ${verb} ${path}: it is a folder`, 'LODESTONE_ERR_IO', options);
    case 'EMFILE':
    case 'ENFILE':
      return new StorageError(`cannot open ${path}: too many open files`, 'LODESTONE_ERR_IO', options);
    default: {
      const detail = error instanceof Error ? error.message : String(error);
      return new StorageError(`${action} failed for ${path}: ${detail}`, 'LODESTONE_ERR_STORAGE', options);
    }
  }
}
