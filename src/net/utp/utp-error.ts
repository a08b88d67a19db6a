import { LodestoneError } from '../../errors.js';

/** Why a uTP connection ended badly. */
export type UtpErrorReason =
  /** No answer to our SYN after the retries. */
  | 'connect-timeout'
  /** Data unacknowledged through every retransmission, or a window of 0 for too long. */
  | 'timeout'
  /** The peer sent ST_RESET. */
  | 'reset'
  /** The connection was destroyed locally. */
  | 'destroyed'
  /** Too many connections or half-open connections. */
  | 'refused';

/** A uTP connection failed; `reason` says how. */
export class UtpError extends LodestoneError {
  readonly reason: UtpErrorReason;
  constructor(reason: UtpErrorReason, message: string) {
    super('LODESTONE_ERR_UTP', message);
    this.reason = reason;
  }
}
