/**
 * `lodestone/policy`: Pure decisions: the piece picker (what to request) and the choker (whom to
 * serve).
 *
 * @module lodestone/policy
 */
export { ALLOWED_FAST_SET_SIZE, allowedFastSet } from './allowed-fast.js';
export { type ChokeCandidate, type ChokeDecision, Choker, type ChokerOptions } from './choker.js';
export {
  type BlockReceipt,
  type BlockRequest,
  type PickerPeer,
  PiecePicker,
  type PiecePickerOptions,
} from './piece-picker.js';
export { RechokeLimiter, type RechokeLimiterOptions } from './rechoke-limiter.js';
