import { LodestoneError } from '../../errors.js';

/**
 * Why an MSE/PE handshake failed; the connection is dropped with it.
 * - `bad-key`: the peer's public key is degenerate or invalid
 * - `sync-not-found`: no HASH('req1', S) (receiver) or encrypted VC (initiator) within the padding bound
 * - `bad-vc`: the verification constant did not decrypt to zeros (wrong key or garbage)
 * - `padding-too-long`: a PadC/PadD length above 512
 * - `payload-too-long`: an initial payload (IA) longer than we accept
 * - `no-common-method`: crypto_provide and our policy share no method, or a bad crypto_select
 * - `unknown-torrent`: HASH('req2', SKEY) names none of our torrents
 * - `plaintext-reply`: the peer we dialled answered with a plaintext BitTorrent handshake
 */
export type MseFailure =
  | 'bad-key'
  | 'sync-not-found'
  | 'bad-vc'
  | 'padding-too-long'
  | 'payload-too-long'
  | 'no-common-method'
  | 'unknown-torrent'
  | 'plaintext-reply';

/** An MSE/PE handshake failed: the peer is dropped for `reason`, never the process. */
export class MseError extends LodestoneError {
  readonly reason: MseFailure;
  constructor(reason: MseFailure, message: string) {
    super('LODESTONE_ERR_MSE', `encryption handshake: ${message}`);
    this.reason = reason;
  }
}
