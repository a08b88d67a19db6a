/**
 * Where failures go when nobody listens for them. The library runs inside
 * someone else's process: an `'error'` emitted with no listener throws, and
 * thrown from a socket callback or a promise chain that is an uncaught
 * exception or an unhandled rejection, which ends the host process. So the
 * library never emits `'error'` into the void: a failure nobody listens for
 * becomes a process warning (stderr by default; `process.on('warning')` sees
 * it), and the failure stays readable on the object that had it.
 *
 * Internal errors are exceptions thrown by Lodestone's own code (or by a
 * listener the host attached) while handling a peer or a timer: programming
 * errors. They end only the connection or the round they happened in, and are
 * reported as `'internal-error'` events. With `LODESTONE_STRICT=1` in the
 * environment (the test suite sets it) each one is also rethrown as an
 * uncaught exception, so a test cannot pass over a bug.
 */
import { LodestoneError } from './errors.js';

/** `LODESTONE_STRICT=1`: internal errors are rethrown (uncaught) after being reported. */
export function strictInternalErrors(): boolean {
  return process.env.LODESTONE_STRICT === '1';
}

/** An Error for whatever was thrown (code throws non-Errors too). */
export function asError(thrown: unknown): Error {
  return thrown instanceof Error
    ? thrown
    : new LodestoneError('LODESTONE_ERR_INTERNAL', `non-error thrown: ${String(thrown)}`);
}

/** In strict mode, rethrows `error` on the next tick, outside any handler that could swallow it. */
export function rethrowIfStrict(error: Error): void {
  if (!strictInternalErrors()) return;
  process.nextTick(() => {
    throw error;
  });
}

/**
 * A failure (`kind` 'error') or an internal error (`kind` 'internal-error')
 * that no listener heard: a process warning, never a throw.
 */
export function warnUnheard(kind: 'error' | 'internal-error', error: Error, where: string): void {
  const code = error instanceof LodestoneError ? error.code : 'LODESTONE_ERR_INTERNAL';
  process.emitWarning(`${where}: ${error.message} (no '${kind}' listener)`, {
    type: 'LodestoneWarning',
    code,
    ...(error.stack ? { detail: error.stack } : {}),
  });
}
