/**
 * PeerListener.accept: a connection over another transport (a uTP stream is a plain Duplex)
 * takes the same path as a TCP one: the pending table, the handshake deadline (a FakeClock
 * here), and the 'handshake' event, labelled with its transport.
 */
import assert from 'node:assert/strict';
import { Duplex } from 'node:stream';
import { afterEach, describe, test } from 'node:test';
import type { PeerAddress } from '../../../src/address.js';
import { PeerListener } from '../../../src/peer/listener.js';
import { encodeHandshake, generatePeerId } from '../../../src/wire/index.js';
import { FakeClock } from '../../helpers/fake-clock.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const done of cleanup.splice(0).reverse()) await done();
});

/** A byte stream the test writes into (as the remote peer) and whose output it collects. */
function stream(): { duplex: Duplex; written: Buffer[] } {
  const written: Buffer[] = [];
  const duplex = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, callback) {
      written.push(chunk);
      callback();
    },
  });
  return { duplex, written };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('PeerListener.accept (streams of other transports)', { timeout: 10_000 }, () => {
  test('a plaintext handshake on an accepted uTP stream is handed on as transport utp', async () => {
    const listener = new PeerListener({ clock: new FakeClock() });
    cleanup.push(() => listener.close());
    const seen: [Duplex, PeerAddress, string, string][] = [];
    listener.on('handshake', (s, _handshake, leftover, address, encryption, transport) => {
      assert.equal(leftover.length, 3);
      seen.push([s, address, encryption, transport]);
    });
    const { duplex } = stream();
    listener.accept(duplex, { host: '127.0.0.9', port: 6999 }, 'utp');
    assert.equal(listener.pendingHandshakes, 1);
    const infoHash = Buffer.alloc(20, 7);
    duplex.push(
      Buffer.concat([
        encodeHandshake({ reserved: new Uint8Array(8), infoHash, peerId: generatePeerId() }),
        Buffer.from([0, 0, 0]),
      ]),
    );
    await turn();
    assert.equal(seen.length, 1);
    assert.equal(seen[0]![0], duplex);
    assert.deepEqual(seen[0]![1], { host: '127.0.0.9', port: 6999 });
    assert.equal(seen[0]![2], 'plain');
    assert.equal(seen[0]![3], 'utp');
    assert.equal(listener.pendingHandshakes, 0);
  });

  test('a silent uTP stream holds a pending slot until the handshake deadline, then is closed', async () => {
    const clock = new FakeClock();
    const listener = new PeerListener({ clock, handshakeTimeoutMs: 5000 });
    cleanup.push(() => listener.close());
    const { duplex } = stream();
    listener.accept(duplex, { host: '127.0.0.9', port: 7000 }, 'utp');
    assert.equal(listener.pendingHandshakes, 1);
    clock.advance(4999);
    assert.equal(duplex.destroyed, false);
    clock.advance(1);
    assert.equal(duplex.destroyed, true);
    await turn();
    assert.equal(listener.pendingHandshakes, 0);
  });

  test('another protocol on a uTP stream is dropped at once with a reason', async () => {
    const listener = new PeerListener({ clock: new FakeClock() });
    cleanup.push(() => listener.close());
    const failed: string[] = [];
    listener.on('handshake-failed', (_address, reason) => failed.push(reason));
    const { duplex } = stream();
    listener.accept(duplex, { host: '127.0.0.9', port: 7001 }, 'utp');
    duplex.push(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    await turn();
    assert.deepEqual(failed, ['not a BitTorrent handshake']);
    assert.equal(duplex.destroyed, true);
    assert.equal(listener.pendingHandshakes, 0);
  });
});
