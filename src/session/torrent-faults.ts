import type { EventEmitter } from 'node:events';
import { LodestoneError } from '../errors.js';
import { asError, rethrowIfStrict, warnUnheard } from '../internal-errors.js';
import type { TorrentSessionEvents } from './session-types.js';

/**
 * A torrent's failures, as its session reports them: the fatal failure that ends the download
 * (kept, emitted once as 'error') and programming errors caught at a boundary ('internal-error').
 * Neither ever throws into an I/O callback: with no listener each becomes a process warning.
 */
export class TorrentFaults {
  readonly #events: EventEmitter<TorrentSessionEvents>;
  /** Names the torrent in process warnings (`torrent <name>`). */
  readonly #label: string;
  /** Stops requesting pieces (called once, at the first fatal failure). */
  readonly #onFatal: () => void;
  #failure: Error | undefined;

  constructor(events: EventEmitter<TorrentSessionEvents>, label: string, onFatal: () => void) {
    this.#events = events;
    this.#label = label;
    this.#onFatal = onFatal;
  }

  /** The fatal error that ended the download, if one did. */
  get failure(): Error | undefined {
    return this.#failure;
  }

  /**
   * A fatal failure (the disk is full, a file cannot be written) ends the
   * download: requesting stops and 'error' is emitted once, for the first
   * failure. Writes already in flight meet the same full disk (a batch of
   * writes fails together); reporting each would only repeat it. Blocks
   * already requested still arrive (one pipeline per peer at most); the owner
   * stops the session. A failure that is not a LodestoneError (storage
   * throws StorageError) is a bug or a listener's throw: it is also reported as
   * an internal error, every time, so it cannot hide behind the first failure.
   */
  fail(error: unknown): void {
    if (!(error instanceof LodestoneError)) this.internalError(error);
    if (this.#failure) return;
    this.#failure =
      error instanceof Error
        ? error
        : new LodestoneError('LODESTONE_ERR_IO', `unexpected failure: ${String(error)}`);
    this.#onFatal();
    if (this.#events.listenerCount('error') > 0) this.#events.emit('error', this.#failure);
    else warnUnheard('error', this.#failure, this.#label);
  }

  /** Reports a programming error caught at a boundary (see the 'internal-error' event). */
  internalError(thrown: unknown, peer?: string): void {
    const error = asError(thrown);
    if (this.#events.listenerCount('internal-error') > 0)
      this.#events.emit('internal-error', { error, ...(peer !== undefined ? { peer } : {}) });
    else warnUnheard('internal-error', error, `${this.#label}${peer ? `, peer ${peer}` : ''}`);
    rethrowIfStrict(error);
  }

  /** `fn`, with what it throws reported as an internal error instead of thrown into its caller. */
  guard<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void {
    return (...args) => {
      try {
        fn(...args);
      } catch (error) {
        this.internalError(error);
      }
    };
  }
}
