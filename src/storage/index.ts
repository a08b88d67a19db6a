/**
 * `lodestone/storage`: The Storage interface and its file and memory implementations, SHA-1
 * workers, the writer thread, the read cache, the existing-data check.
 *
 * @module lodestone/storage
 */
export { type CheckMetadata, type CheckOptions, checkExisting } from './check.js';
export { FileLayout, type LayoutMetadata } from './file-layout.js';
export { FileStorage, type FileStorageOptions, type FileSystem } from './file-storage.js';
export {
  DEFAULT_IDLE_CLOSE_MS,
  DEFAULT_MAX_OPEN_FILES,
  defaultMaxOpenFiles,
  HandleBudget,
  type HandleBudgetOptions,
  type IdleHandleHolder,
  sharedHandleBudget,
  softOpenFileLimit,
} from './handle-budget.js';
export { HashPool, type HashPoolOptions, sha1 } from './hasher.js';
export { type IoAction, isMissingFile, toStorageError } from './io-errors.js';
export { MemoryStorage, type MemoryStorageMetadata } from './memory-storage.js';
export type { PieceGeometry } from './piece-geometry.js';
export { type BlockLease, ReadCache, type ReadCacheOptions } from './read-cache.js';
export { ReadCacheBudget } from './read-cache-budget.js';
export { planResume, type ResumePlan } from './resume-plan.js';
export {
  decodeResumeRecord,
  encodeResumeRecord,
  MAX_RESUME_RECORD_BYTES,
  RESUME_RECORD_VERSION,
  type ResumeExpectation,
  type ResumeFileState,
  type ResumeRecord,
} from './resume-record.js';
export { DirectoryResumeStore, type ResumeStore } from './resume-store.js';
export type { CheckProgress, Storage } from './types.js';
export { sharedWriteThread, WriteThread, type WriteThreadOptions } from './write-thread.js';
