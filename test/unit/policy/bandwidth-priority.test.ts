import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LodestoneError } from '../../../src/errors.js';
import {
  BandwidthChain,
  BandwidthChannel,
  type BandwidthPriority,
  PRIORITY_ROUND_MS,
} from '../../../src/policy/bandwidth.js';
import { TorrentBandwidth } from '../../../src/session/bandwidth-limits.js';
import { FakeClock } from '../../helpers/fake-clock.js';

/** A saturating reader: a chunk every millisecond while its chain is out of debt, as a socket. */
interface SimPeer {
  chain: BandwidthChain;
  counted: number;
}

const CHUNK = 16 * 1024;
const MB = 1_000_000;

function run(clock: FakeClock, peer: SimPeer, countFrom: number): void {
  const turn = (): void => {
    if (clock.now() >= countFrom) peer.counted += CHUNK;
    peer.chain.use(CHUNK);
    if (peer.chain.delayMs() > 0) peer.chain.wait(() => clock.setTimeout(turn, 1));
    else clock.setTimeout(turn, 1);
  };
  clock.setTimeout(turn, 1);
}

function advance(clock: FakeClock, ms: number): void {
  for (let left = ms; left > 0; left -= 50) clock.advance(Math.min(50, left));
}

/** Two torrents of `peers` readers each over one client channel of 1 MB/s: bytes per torrent over 10 s. */
function share(
  a: BandwidthPriority,
  b: BandwidthPriority,
  options: { ownA?: number; peers?: number } = {},
): { a: number; b: number } {
  const clock = new FakeClock();
  const client = new BandwidthChannel(clock, MB);
  const chainA = new BandwidthChain([new BandwidthChannel(clock, options.ownA ?? 0), client], a);
  const chainB = new BandwidthChain([new BandwidthChannel(clock, 0), client], b);
  const peersA = Array.from({ length: options.peers ?? 2 }, () => ({ chain: chainA, counted: 0 }));
  const peersB = Array.from({ length: options.peers ?? 2 }, () => ({ chain: chainB, counted: 0 }));
  const from = clock.now() + 1000;
  for (const peer of [...peersA, ...peersB]) run(clock, peer, from);
  advance(clock, 11_000);
  const sum = (peers: SimPeer[]) => peers.reduce((total, peer) => total + peer.counted, 0);
  return { a: sum(peersA), b: sum(peersB) };
}

describe('bandwidth priority on a shared channel', () => {
  test('high against low: about 4 to 1, the channel still full', () => {
    const { a, b } = share('high', 'low');
    assert.ok(a / b > 3 && a / b < 5, `high ${a} low ${b}`);
    assert.ok(Math.abs(a + b - 10 * MB) < 0.05 * 10 * MB, `total ${a + b}`);
  });

  test('high against normal: about 2 to 1; normal against low the same', () => {
    const hn = share('high', 'normal');
    assert.ok(hn.a / hn.b > 1.6 && hn.a / hn.b < 2.5, `high ${hn.a} normal ${hn.b}`);
    const nl = share('normal', 'low');
    assert.ok(nl.a / nl.b > 1.6 && nl.a / nl.b < 2.5, `normal ${nl.a} low ${nl.b}`);
  });

  test('equal priorities share evenly', () => {
    for (const priority of ['low', 'normal', 'high'] as const) {
      const { a, b } = share(priority, priority);
      assert.ok(Math.abs(a - b) < 0.1 * (a + b), `${priority}: ${a} vs ${b}`);
    }
  });

  test('what the high torrent cannot use goes to the low one (its own limit binds first)', () => {
    const { a, b } = share('high', 'low', { ownA: 200_000 });
    assert.ok(Math.abs(a - 10 * 200_000) < 0.1 * 10 * 200_000, `high ${a}`);
    assert.ok(b > 0.9 * 10 * 800_000, `low ${b} should get the rest`);
  });

  test('a held-back waiter is woken PRIORITY_ROUND_MS after a round the woken ones did not use', () => {
    const clock = new FakeClock();
    const channel = new BandwidthChannel(clock, 1000);
    channel.use(2000);
    const woken: string[] = [];
    channel.wait(() => woken.push('high'), 'high');
    channel.wait(() => woken.push('low'), 'low');
    clock.advance(2000);
    assert.deepEqual(woken, ['high'], 'the round woke the high one only');
    clock.advance(PRIORITY_ROUND_MS - 1);
    assert.deepEqual(woken, ['high']);
    clock.advance(1);
    assert.deepEqual(woken, ['high', 'low'], 'the channel is not left idle while the low one waits');
    assert.equal(clock.pendingTimers, 0);
  });

  test('a low-priority torrent alone gets the whole rate', () => {
    const clock = new FakeClock();
    const client = new BandwidthChannel(clock, MB);
    const peer = { chain: new BandwidthChain([client], 'low'), counted: 0 };
    run(clock, peer, clock.now() + 1000);
    advance(clock, 11_000);
    assert.ok(Math.abs(peer.counted - 10 * MB) < 0.05 * 10 * MB, `${peer.counted}`);
  });

  test('the torrent sets it on both directions; a bad value is refused', () => {
    const bandwidth = new TorrentBandwidth(undefined, { priority: 'high' });
    assert.equal(bandwidth.priority, 'high');
    bandwidth.setLimits({ priority: 'low' });
    assert.equal(bandwidth.priority, 'low');
    assert.throws(
      () => bandwidth.setLimits({ priority: 'urgent' as BandwidthPriority }),
      (error: unknown) => error instanceof LodestoneError && error.code === 'LODESTONE_ERR_USAGE',
    );
  });
});
