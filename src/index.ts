/** Lodestone's public library API. The CLI uses nothing else. */
export { formatAddress, type PeerAddress, parseAddress } from './address.js';
export * from './bencode/index.js';
export { Bitfield } from './bitfield.js';
export { type Clock, systemClock } from './clock.js';
export * from './errors.js';
export * from './metainfo/index.js';
export { type ListenerOptions, PeerListener } from './peer/listener.js';
export { PeerConnection } from './peer/peer-connection.js';
export { Choker } from './policy/choker.js';
export { PiecePicker } from './policy/piece-picker.js';
export { type AddTorrentOptions, Client, type ClientOptions } from './session/client.js';
export {
  MetadataFetcher,
  type MetadataFetcherEvents,
  type MetadataFetcherOptions,
  type MetadataProgress,
} from './session/metadata-fetcher.js';
export {
  type SessionStats,
  TorrentSession,
  type TorrentSessionEvents,
  type TorrentSessionOptions,
} from './session/torrent-session.js';
export * from './storage/index.js';
export * from './tracker/index.js';
export * from './wire/index.js';
