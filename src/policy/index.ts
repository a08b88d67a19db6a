/**
 * `lodestone/policy`: Pure decisions: the piece picker (what to request), the choker (whom to
 * serve), the bandwidth channels of rate limits, and the daemon's queue, seed limits and turtle
 * schedule (docs/queue.md).
 *
 * @module lodestone/policy
 */
export { ALLOWED_FAST_SET_SIZE, allowedFastSet } from './allowed-fast.js';
export { BandwidthChain, BandwidthChannel, type BandwidthPriority, BURST_SECONDS } from './bandwidth.js';
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
  type PiecePriority,
} from './piece-picker.js';
export { RechokeLimiter, type RechokeLimiterOptions } from './rechoke-limiter.js';
export {
  checkSeedLimits,
  effectiveIdleMinutes,
  effectiveSeedRatio,
  isFinished,
  RATIO_INFINITE,
  RATIO_NOT_AVAILABLE,
  ratioBytesLeft,
  ratioModeOnManualStart,
  type SeedFacts,
  type SeedLimitMode,
  type SeedLimitSettings,
  type SeedLimitVerdict,
  seedRatioDone,
  uploadRatio,
} from './seed-limits.js';
export {
  type AltSpeedScheduleSettings,
  type AltSpeedState,
  altSpeedTick,
  altSpeedToggle,
  type EffectiveLimits,
  effectiveLimits,
  type LocalTime,
  localTime,
  minutesToNextChange,
  type SpeedSettings,
  scheduleWantsAlt,
} from './speed-schedule.js';
export {
  type ActivityFacts,
  idleMs,
  idleSince,
  isStalled,
  type StalledSettings,
  stalledAt,
} from './torrent-activity.js';
export {
  decideQueue,
  type QueueDecision,
  type QueueMoveKind,
  type QueueSettings,
  type QueueState,
  type QueueTorrent,
  type QueueTorrentId,
  queueAppend,
  queueMove,
  queueRemove,
  queueSetPosition,
} from './torrent-queue.js';
