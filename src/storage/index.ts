export { type CheckOptions, checkExisting } from './check.js';
export { FileLayout, type LayoutMetadata } from './file-layout.js';
export { FileStorage, type FileStorageOptions, type FileSystem } from './file-storage.js';
export { HashPool, type HashPoolOptions, sha1 } from './hasher.js';
export { type IoAction, isMissingFile, toStorageError } from './io-errors.js';
export { MemoryStorage, type MemoryStorageMetadata } from './memory-storage.js';
export { ReadCache, type ReadCacheOptions } from './read-cache.js';
export type { CheckProgress, Storage } from './types.js';
export { sharedWriteThread, WriteThread, type WriteThreadOptions } from './write-thread.js';
