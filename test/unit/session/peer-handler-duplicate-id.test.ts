/**
 * A second connection from a peer id already connected is closed at its handshake; once the
 * first one is gone the id may connect again. Found through a map by peer id, not by comparing
 * with every connected peer (issue 18: no O(peers) work per connection).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PeerConnection } from '../../../src/peer/peer-connection.js';
import { PeerState } from '../../../src/session/peer-state.js';
import { type PeerHandlerContext, SessionPeerHandler } from '../../../src/session/session-peer-handler.js';
import type { Uploader } from '../../../src/session/uploader.js';
import type { Handshake } from '../../../src/wire/types.js';
import { downloaderHarness, FakeDownloaderConnection } from './fixtures.js';

const PIECE = 16_384;
const PIECES = 4;

class HandshakingConnection extends FakeDownloaderConnection {
  readonly direction = 'outbound';
  readonly encryption = 'none';
  readonly transport = 'tcp';
  constructor(
    key: string,
    readonly peerId: Uint8Array,
  ) {
    super(key);
  }
}

function handshakeOf(peerId: Uint8Array): Handshake {
  return { reserved: new Uint8Array(8), infoHash: new Uint8Array(20), peerId } as Handshake;
}

test('a duplicate peer id is closed at its handshake, and may come back once the first is gone', () => {
  const { meta, peers, downloader } = downloaderHarness(PIECES, PIECE);
  const connected: string[] = [];
  const context: PeerHandlerContext = {
    meta,
    peers,
    done: false,
    ban: () => {},
    emit: (_event, info) => connected.push(info.address) > 0,
  };
  // onHandshake never reaches the uploader without the extension protocol bit.
  const handler = new SessionPeerHandler(context, downloader, {} as Uploader, {
    peerId: Buffer.alloc(20, 0x4c),
    port: 0,
    now: () => 0,
  });
  const join = (key: string, idByte: number) => {
    const id = new Uint8Array(20).fill(idByte);
    // A view into a larger buffer, as a decoded handshake's peer id is.
    const bytes = new Uint8Array(64);
    bytes.set(id, 30);
    const peerId = bytes.subarray(30, 50);
    const connection = new HandshakingConnection(key, peerId);
    const peer = new PeerState(connection as unknown as PeerConnection, PIECES, () => 0);
    peers.set(key, peer);
    handler.onHandshake(peer, handshakeOf(peerId));
    return { connection, peer };
  };
  const leave = (peer: PeerState) => {
    peers.delete(peer.key);
    handler.onClose(peer);
  };
  const others = Array.from({ length: 50 }, (_, i) => join(`10.0.0.${i}:6881`, i + 1));
  assert.ok(others.every(({ connection }) => !connection.closed));

  const first = join('10.0.1.1:6881', 0xaa);
  const second = join('10.0.1.2:6881', 0xaa);
  assert.equal(first.connection.closed, false);
  assert.equal(second.connection.closeReason, 'already connected to this peer id');
  leave(second.peer); // its close must not forget the first one
  const third = join('10.0.1.3:6881', 0xaa);
  assert.equal(third.connection.closeReason, 'already connected to this peer id');
  leave(third.peer);

  leave(first.peer);
  const back = join('10.0.1.4:6881', 0xaa);
  assert.equal(back.connection.closed, false, 'the id may connect again once the first left');

  // The session takes a closed peer out of its map before telling the handler: a newcomer with
  // that id in between is accepted, and the late close of the old one does not forget it.
  const old = join('10.0.2.1:6881', 0xbb);
  peers.delete(old.peer.key);
  const newcomer = join('10.0.2.2:6881', 0xbb);
  assert.equal(newcomer.connection.closed, false, 'the old connection was already gone');
  handler.onClose(old.peer);
  const duplicate = join('10.0.2.3:6881', 0xbb);
  assert.equal(duplicate.connection.closeReason, 'already connected to this peer id');
  assert.equal(connected.length, 54);
  handler.stop();
});
