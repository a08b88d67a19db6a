export {
  CRYPTO_PLAINTEXT,
  CRYPTO_RC4,
  KEY_LENGTH,
  MAX_PADDING,
  MSE_PRIME,
  MseKeyPair,
  type RandomBytes,
  req2Hash,
} from './crypto.js';
export { MseError, type MseFailure } from './errors.js';
export {
  MAX_INITIAL_PAYLOAD,
  MseInitiator,
  type MseInitiatorOptions,
  type MseMethod,
  MseReceiver,
  type MseReceiverOptions,
  type MseResult,
  type MseStep,
  methodMask,
} from './handshake.js';
export { Rc4 } from './rc4.js';
