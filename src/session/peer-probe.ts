import { formatAddress, type PeerAddress } from '../address.js';
import { Bitfield } from '../bitfield.js';
import type { Clock } from '../clock.js';
import type { EncryptionPolicy } from '../net/mse/policy.js';
import { type ConnectedPeer, connectPeer } from '../peer/connect-peer.js';
import type { UtpDialer } from '../peer/dial-transport.js';
import { PeerConnection } from '../peer/peer-connection.js';
import { CLIENT_NAME } from '../version.js';
import {
  decodeExtensionHandshake,
  EXTENSION_HANDSHAKE_ID,
  encodeExtensionHandshake,
  LOCAL_EXTENSION_IDS,
  supportsExtensionProtocol,
  supportsFastExtension,
} from '../wire/index.js';
import type { Handshake, Message } from '../wire/types.js';
import { decodePexMessage } from '../wire/ut-pex.js';
import type { DoctorPeer, PeerFailure } from './doctor-report.js';
import { classifyCloseReason, classifyDialError } from './peer-failure.js';
import { PexInbox } from './pex-state.js';

export interface PeerProbeOptions {
  /** Our handshake (its reserved bits should announce BEP 10 and BEP 6). */
  localHandshake: Handshake;
  /** Torrents: the piece count (bounds the bitfield, gives the share). Undefined for magnets. */
  pieceCount?: number;
  encryption: EncryptionPolicy;
  utp?: UtpDialer | undefined;
  bindAddress?: string | undefined;
  /** Time to connect (TCP or uTP). */
  connectTimeoutMs: number;
  /** Time for the encryption and BitTorrent handshakes. */
  handshakeTimeoutMs: number;
  /** After the handshake, how long to wait for the peer's bitfield and extension handshake. */
  observeMs: number;
  clock: Clock;
  /** Ends the probe at once (the probe's deadline): the result says what was seen so far. */
  signal: AbortSignal;
  /**
   * Ask for PEX (BEP 11): `ut_pex` in our extension handshake and the peer's first ut_pex message
   * read. While `wait()` says so, a peer that offers ut_pex is observed (within `observeMs`) until
   * that message comes. Never for a private torrent.
   */
  pex?: { wait(): boolean } | undefined;
}

/** A probed peer, with the pieces it has (torrents) for the swarm's availability. */
export interface PeerProbeResult {
  peer: Omit<DoctorPeer, 'sources'>;
  /** Torrents: the pieces the peer said it has. */
  bits?: Bitfield;
  /** With `pex`: whether the peer offered ut_pex, and the addresses its first message added. */
  pex?: { supported: boolean; sent: boolean; added: PeerAddress[] };
}

/** Distinct `have`s counted for a magnet's peer (the piece count is unknown): a bound on memory. */
const MAX_MAGNET_HAVES = 1 << 16;

/**
 * Probes one peer without downloading anything: connects the way the client would (uTP then TCP,
 * the encryption policy), exchanges handshakes, reads what the peer says it has (bitfield,
 * have-all/have-none, the extension handshake's client name and metadata size) for at most
 * `observeMs`, and closes. Never rejects: a failure is a `failure` in the result.
 */
export async function probePeer(address: PeerAddress, options: PeerProbeOptions): Promise<PeerProbeResult> {
  const startedAt = options.clock.now();
  const peer: Omit<DoctorPeer, 'sources'> = {
    address: formatAddress(address),
    handshake: false,
  };
  if (options.pieceCount !== undefined) peer.pieceCount = options.pieceCount;
  const finish = (result: PeerProbeResult): PeerProbeResult => {
    result.peer.elapsedMs = options.clock.now() - startedAt;
    return result;
  };
  if (options.signal.aborted) return finish({ peer: { ...peer, failure: 'not-tried' } });
  let connected: ConnectedPeer;
  try {
    connected = await abortable(
      connectPeer(address, {
        localHandshake: options.localHandshake,
        encryption: options.encryption,
        utp: options.utp,
        timeoutMs: options.connectTimeoutMs,
        handshakeTimeoutMs: options.handshakeTimeoutMs,
        clock: options.clock,
        ...(options.bindAddress ? { bindAddress: options.bindAddress } : {}),
      }),
      options.signal,
    );
  } catch (error) {
    if (error === ABORTED)
      return finish({ peer: { ...peer, failure: 'timeout', message: 'the time ran out while connecting' } });
    return finish({ peer: { ...peer, ...classifyDialError(error) } });
  }
  peer.transport = connected.transport;
  peer.encryption = connected.encryption;
  return finish(await observe(address, connected, peer, options));
}

const ABORTED = Symbol('aborted');

/** The promise, or a rejection with ABORTED when `signal` aborts first (a late socket is closed). */
function abortable(promise: Promise<ConnectedPeer>, signal: AbortSignal): Promise<ConnectedPeer> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(ABORTED);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        if (signal.aborted) value.socket.destroy();
        else resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

function observe(
  address: PeerAddress,
  connected: ConnectedPeer,
  peer: Omit<DoctorPeer, 'sources'>,
  options: PeerProbeOptions,
): Promise<PeerProbeResult> {
  const pieceCount = options.pieceCount;
  const connection = new PeerConnection({
    socket: connected.socket,
    address,
    direction: 'outbound',
    localHandshake: options.localHandshake,
    ...(pieceCount !== undefined ? { pieceCount } : {}),
    ...(connected.reads ? { reads: connected.reads } : {}),
    handshakeSent: connected.handshakeSent,
    encryption: connected.encryption,
    transport: connected.transport,
    handshakeTimeoutMs: options.handshakeTimeoutMs,
    clock: options.clock,
  });
  let bits: Bitfield | undefined;
  const magnetHaves = new Set<number>();
  let saidPieces = false;
  let wantsExtension = false;
  let saidExtension = false;
  const pex = options.pex ? { supported: false, sent: false, added: [] as PeerAddress[] } : undefined;
  return new Promise((resolve) => {
    let window: unknown;
    let done = false;
    const end = (failure?: { failure: PeerFailure; message: string }): void => {
      if (done) return;
      done = true;
      options.clock.clearTimeout(window);
      options.signal.removeEventListener('abort', onAbort);
      connection.close('probe done');
      if (failure) Object.assign(peer, failure);
      if (bits) {
        peer.piecesHave = bits.count;
        peer.seeder = bits.complete;
      } else if (peer.seeder !== true && magnetHaves.size > 0) {
        peer.piecesHave = Math.max(peer.piecesHave ?? 0, magnetHaves.size);
      }
      resolve({ peer, ...(bits ? { bits } : {}), ...(pex ? { pex } : {}) });
    };
    const enough = (): void => {
      if (pex?.supported && !pex.sent && options.pex?.wait()) return; // its list, or the window's end
      if (saidPieces && (saidExtension || !wantsExtension)) end();
    };
    const onAbort = (): void =>
      end(
        peer.handshake ? undefined : { failure: 'timeout', message: 'the time ran out before the handshake' },
      );
    options.signal.addEventListener('abort', onAbort, { once: true });
    connection.on('internal-error', (error) => end({ failure: 'other', message: error.message }));
    connection.on('close', (reason) => {
      if (done) return;
      const text = reason ?? 'connection closed';
      end({ failure: classifyCloseReason(text, peer.handshake), message: text });
    });
    connection.on('handshake', (remote) => {
      peer.handshake = true;
      wantsExtension = supportsExtensionProtocol(remote.reserved);
      if (supportsFastExtension(remote.reserved) && supportsFastExtension(options.localHandshake.reserved))
        connection.send({ type: 'have-none' });
      if (wantsExtension)
        connection.send({
          type: 'extended',
          id: EXTENSION_HANDSHAKE_ID,
          payload: encodeExtensionHandshake({
            m: new Map([
              ['ut_metadata', LOCAL_EXTENSION_IDS.ut_metadata],
              ...(pex ? [['ut_pex', LOCAL_EXTENSION_IDS.ut_pex] as [string, number]] : []),
            ]),
            v: CLIENT_NAME,
          }),
        });
      // A peer with nothing may say nothing (no bitfield without BEP 6): the window bounds the wait.
      window = options.clock.setTimeout(() => end(), options.observeMs);
    });
    connection.on('message', (message: Message) => {
      switch (message.type) {
        case 'bitfield':
          saidPieces = true;
          if (pieceCount === undefined) peer.piecesHave = countBits(message.bits);
          else if (message.bits.length !== Math.ceil(pieceCount / 8)) {
            end({
              failure: 'other',
              message: `bitfield of ${message.bits.length} bytes for ${pieceCount} pieces`,
            });
            return;
          } else bits = new Bitfield(pieceCount, message.bits);
          break;
        case 'have-all':
          saidPieces = true;
          peer.seeder = true;
          if (pieceCount !== undefined) bits = Bitfield.full(pieceCount);
          break;
        case 'have-none':
          saidPieces = true;
          peer.piecesHave = 0;
          if (pieceCount !== undefined) bits = new Bitfield(pieceCount);
          break;
        case 'have':
          saidPieces = true;
          if (pieceCount !== undefined) {
            bits ??= new Bitfield(pieceCount);
            if (message.index < pieceCount) bits.set(message.index);
          } else if (magnetHaves.size < MAX_MAGNET_HAVES) magnetHaves.add(message.index);
          break;
        case 'extended':
          if (pex && message.id === LOCAL_EXTENSION_IDS.ut_pex && pex.supported && !pex.sent) {
            pex.sent = true;
            pex.added = readPex(message.payload, options.clock.now());
            break;
          }
          if (message.id !== EXTENSION_HANDSHAKE_ID) break;
          saidExtension = true;
          if (readExtensionHandshake(peer, message.payload, pieceCount === undefined) && pex)
            pex.supported = true;
          break;
        default:
      }
      enough();
    });
  });
}

/**
 * The addresses of a peer's first ut_pex message that we would dial (PexInbox's rules: literal
 * unicast IP, port 1..65535, at most 200); a malformed message gives none.
 */
function readPex(payload: Uint8Array, now: number): PeerAddress[] {
  try {
    const added = new PexInbox().accept(now, decodePexMessage(payload), () => false);
    return added === 'throttled' ? [] : added;
  } catch {
    return [];
  }
}

/** Reads the peer's extension handshake into `peer`; true when it offers ut_pex. */
function readExtensionHandshake(
  peer: Omit<DoctorPeer, 'sources'>,
  payload: Uint8Array,
  magnet: boolean,
): boolean {
  try {
    const handshake = decodeExtensionHandshake(payload);
    if (handshake.v !== undefined) peer.client = handshake.v.slice(0, 100);
    if (magnet)
      peer.hasMetadata =
        (handshake.m.get('ut_metadata') ?? 0) > 0 &&
        handshake.metadataSize !== undefined &&
        handshake.metadataSize > 0;
    return (handshake.m.get('ut_pex') ?? 0) > 0;
  } catch {
    // Not a dictionary: the peer says nothing we can read; its other answers still count.
    return false;
  }
}

function countBits(bytes: Uint8Array): number {
  let count = 0;
  for (const byte of bytes) {
    let b = byte;
    while (b) {
      b &= b - 1;
      count++;
    }
  }
  return count;
}
