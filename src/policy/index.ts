export { type ChokeCandidate, type ChokeDecision, Choker, type ChokerOptions } from './choker.js';
export {
  type BlockReceipt,
  type BlockRequest,
  type PickerPeer,
  PiecePicker,
  type PiecePickerOptions,
} from './piece-picker.js';
