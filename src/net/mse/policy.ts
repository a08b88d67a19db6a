import type { MseMethod } from './handshake.js';

/**
 * How a client uses protocol encryption (MSE/PE), as other clients name it:
 * - `prefer`: dial encrypted first and retry in plaintext if that fails (remembering per peer
 *   what worked); accept both; select RC4 when a peer offers it.
 * - `require`: RC4 only, both directions; plaintext handshakes are refused.
 * - `allow`: dial in plaintext first and retry encrypted if that fails; accept both.
 * - `disable`: plaintext only; encrypted handshakes are refused.
 */
export type EncryptionPolicy = 'prefer' | 'require' | 'allow' | 'disable';

export const ENCRYPTION_POLICIES: readonly EncryptionPolicy[] = ['prefer', 'require', 'allow', 'disable'];

/** What a connection ended up carrying: `rc4`, or `plain` (no MSE, or MSE with plaintext selected). */
export type ConnectionEncryption = 'plain' | 'rc4';

/** The ways to try dialling, in order. */
export function dialOrder(policy: EncryptionPolicy): readonly ('mse' | 'plain')[] {
  switch (policy) {
    case 'prefer':
      return ['mse', 'plain'];
    case 'require':
      return ['mse'];
    case 'allow':
      return ['plain', 'mse'];
    case 'disable':
      return ['plain'];
  }
}

/** Methods offered (dialling) or accepted (answering) in an MSE handshake. */
export function mseMethods(policy: EncryptionPolicy): readonly MseMethod[] {
  return policy === 'require' ? ['rc4'] : ['rc4', 'plaintext'];
}

export function acceptsPlainHandshake(policy: EncryptionPolicy): boolean {
  return policy !== 'require';
}

export function acceptsMse(policy: EncryptionPolicy): boolean {
  return policy !== 'disable';
}
