/**
 * The DHT's typed errors. A malformed datagram is a {@link DhtError} with code
 * `LODESTONE_ERR_DHT_MALFORMED`; a saved routing table that cannot be read is one with
 * `LODESTONE_ERR_DHT_STATE`. Neither ever crashes the node: the datagram is dropped (or
 * answered with error 203), the state file is ignored.
 */
import { LodestoneError } from '../errors.js';

export type DhtErrorCode = 'LODESTONE_ERR_DHT_MALFORMED' | 'LODESTONE_ERR_DHT_STATE';

export interface DhtErrorContext {
  /**
   * The transaction id, when the datagram was a query we could read that far: the caller may
   * answer it with a KRPC error 203 (protocol error) instead of staying silent.
   */
  queryTid?: Uint8Array;
  cause?: unknown;
}

export class DhtError extends LodestoneError {
  /** Set when the bad datagram was a query with a readable `t` (see {@link DhtErrorContext}). */
  readonly queryTid: Uint8Array | undefined;
  constructor(
    message: string,
    code: DhtErrorCode = 'LODESTONE_ERR_DHT_MALFORMED',
    context: DhtErrorContext = {},
  ) {
    super(code, message, context.cause === undefined ? undefined : { cause: context.cause });
    this.queryTid = context.queryTid;
  }
}

/** Shorthand for the decoder: a malformed-message error. */
export function malformed(message: string, context?: DhtErrorContext): DhtError {
  return new DhtError(message, 'LODESTONE_ERR_DHT_MALFORMED', context);
}
