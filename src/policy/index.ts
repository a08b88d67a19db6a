export {
  type BlockReceipt,
  type BlockRequest,
  type PickerPeer,
  PiecePicker,
  type PiecePickerOptions,
} from './piece-picker.js';
