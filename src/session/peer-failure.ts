import { MseError } from '../net/mse/errors.js';
import type { PeerFailure } from './doctor-report.js';

/** A failed dial (TCP/uTP connect or the encryption handshake) → one of the closed set of reasons. */
export function classifyDialError(error: unknown): { failure: PeerFailure; message: string } {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof MseError) return { failure: 'encryption-failed', message };
  if (/ECONNREFUSED|refused/i.test(message)) return { failure: 'refused', message };
  if (/timed out|ETIMEDOUT|no encryption handshake/i.test(message)) return { failure: 'timeout', message };
  if (/ECONNRESET|EPIPE|closed|reset/i.test(message)) return { failure: 'dropped', message };
  return { failure: 'other', message };
}

/** Why a connection closed before we were done with it → a reason of the closed set. */
export function classifyCloseReason(reason: string, handshakeDone: boolean): PeerFailure {
  if (/another info-hash/.test(reason)) return 'wrong-info-hash';
  if (/no handshake from peer/.test(reason)) return 'timeout';
  if (/closed by peer|connection closed|ECONNRESET|EPIPE|reset/i.test(reason)) return 'dropped';
  // Before the handshake, anything else is the handshake's fault (another protocol, bad bytes).
  return handshakeDone ? 'other' : 'handshake-failed';
}
