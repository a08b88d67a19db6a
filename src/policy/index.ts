/**
 * `lodestone/policy`: Pure decisions: the piece picker (what to request) and the choker (whom to
 * serve).
 *
 * @module lodestone/policy
 */
export { ALLOWED_FAST_SET_SIZE, allowedFastSet } from './allowed-fast.js';
export { type ChokeCandidate, type ChokeDecision, Choker, type ChokerOptions } from './choker.js';
export {
  DIAL_ATTEMPTS_PER_SECOND,
  DIAL_BURST,
  DIAL_MAX_HALF_OPEN,
  DialBudget,
  type DialBudgetOptions,
  type DialState,
  dialTimeouts,
} from './dial-budget.js';
export {
  DEFAULT_GLOBAL_PEERS,
  DEFAULT_PEERS_PER_TORRENT,
  PeerBudget,
  type PeerLimits,
  pickDonor,
  type TorrentPeerCount,
} from './peer-budget.js';
export {
  type BlockReceipt,
  type BlockRequest,
  type PickerPeer,
  PiecePicker,
  type PiecePickerOptions,
} from './piece-picker.js';
export { RechokeLimiter, type RechokeLimiterOptions } from './rechoke-limiter.js';
