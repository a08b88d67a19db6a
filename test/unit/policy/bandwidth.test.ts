import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { LodestoneError } from '../../../src/errors.js';
import { BandwidthChain, BandwidthChannel, BURST_SECONDS } from '../../../src/policy/bandwidth.js';
import { FakeClock } from '../../helpers/fake-clock.js';

/** A reader that moves `chunk` bytes every `everyMs` while its chain lets it, as a socket would. */
interface SimPeer {
  chain: BandwidthChain;
  chunk: number;
  bytes: number;
  /** Bytes counted from `countFrom` on (after a warm-up). */
  counted: number;
  stopped?: boolean;
}

const EVERY_MS = 1;

function run(clock: FakeClock, peer: SimPeer, countFrom: number): void {
  const turn = (): void => {
    if (peer.stopped) return;
    peer.bytes += peer.chunk;
    if (clock.now() >= countFrom) peer.counted += peer.chunk;
    peer.chain.use(peer.chunk);
    if (peer.chain.delayMs() > 0) peer.chain.wait(() => clock.setTimeout(turn, EVERY_MS));
    else clock.setTimeout(turn, EVERY_MS);
  };
  clock.setTimeout(turn, EVERY_MS);
}

function advance(clock: FakeClock, ms: number): void {
  for (let left = ms; left > 0; left -= 50) clock.advance(Math.min(50, left));
}

function peer(chain: BandwidthChain, chunk = 16 * 1024): SimPeer {
  return { chain, chunk, bytes: 0, counted: 0 };
}

const MB = 1_000_000;

describe('BandwidthChannel', () => {
  test('a saturating reader moves the rate over 10 s, within the burst and one chunk', () => {
    const clock = new FakeClock();
    const channel = new BandwidthChannel(clock, 2 * MB);
    const p = peer(new BandwidthChain([channel]));
    const start = clock.now() + 1000;
    run(clock, p, start);
    advance(clock, 11_000);
    const expected = 2 * MB * 10;
    assert.ok(
      Math.abs(p.counted - expected) <= 2 * MB * BURST_SECONDS + p.chunk,
      `${p.counted} vs ${expected}`,
    );
  });

  test('unlimited (0) never delays and sets no timer', () => {
    const clock = new FakeClock();
    const channel = new BandwidthChannel(clock, 0);
    channel.use(1e12);
    assert.equal(channel.delayMs(), 0);
    assert.equal(channel.limited, false);
    assert.equal(clock.pendingTimers, 0);
    const chain = new BandwidthChain([channel]);
    assert.equal(chain.limited, false);
    let woken = false;
    chain.wait(() => {
      woken = true;
    });
    assert.ok(woken, 'an unlimited chain lets a waiter through at once');
  });

  test('debt is repaid at the rate: 1 MB over a 500 kB/s channel waits about 2 s', () => {
    const clock = new FakeClock();
    const channel = new BandwidthChannel(clock, 500_000);
    channel.use(1 * MB);
    assert.equal(channel.delayMs(), 2000);
    let wokenAt = 0;
    channel.wait(() => {
      wokenAt = clock.now();
    });
    const start = clock.now();
    clock.advance(1999);
    assert.equal(wokenAt, 0);
    clock.advance(1);
    assert.equal(wokenAt - start, 2000);
  });

  test('an idle channel saves up no more than the burst', () => {
    const clock = new FakeClock();
    const channel = new BandwidthChannel(clock, 1 * MB);
    clock.advance(60_000);
    channel.use(1 * MB * BURST_SECONDS);
    assert.equal(channel.delayMs(), 0);
    channel.use(100_000);
    assert.equal(channel.delayMs(), 100);
  });

  test('a live change applies to the next second: 2 MB/s then 500 kB/s', () => {
    const clock = new FakeClock();
    const channel = new BandwidthChannel(clock, 2 * MB);
    const p = peer(new BandwidthChain([channel]));
    run(clock, p, clock.now());
    advance(clock, 5000);
    channel.setRate(500_000);
    const before = p.bytes;
    // Up to the old debt (a chunk at 2 MB/s) is repaid at the new rate first: one second of grace.
    advance(clock, 1000);
    const mid = p.bytes;
    advance(clock, 4000);
    const moved = p.bytes - mid;
    assert.ok(Math.abs(moved - 4 * 500_000) <= 500_000 * BURST_SECONDS + p.chunk, `${moved}`);
    assert.ok(mid - before <= 500_000 + p.chunk * 2, `${mid - before} in the first second`);
  });

  test('lifting the limit wakes waiters at once', () => {
    const clock = new FakeClock();
    const channel = new BandwidthChannel(clock, 1000);
    channel.use(1 * MB);
    let woken = 0;
    channel.wait(() => woken++);
    channel.wait(() => woken++);
    clock.advance(0);
    assert.equal(woken, 0);
    channel.setRate(0);
    clock.advance(0);
    assert.equal(woken, 2);
    assert.equal(channel.waiting, 0);
  });

  test('a cancelled waiter is not called and its timer goes', () => {
    const clock = new FakeClock();
    const channel = new BandwidthChannel(clock, 1000);
    channel.use(10_000);
    const chain = new BandwidthChain([channel]);
    let woken = false;
    const cancel = chain.wait(() => {
      woken = true;
    });
    assert.equal(clock.pendingTimers, 1);
    cancel();
    assert.equal(clock.pendingTimers, 0);
    clock.advance(20_000);
    assert.equal(woken, false);
  });

  test('bad rates are usage errors; huge rates are unlimited in practice', () => {
    const clock = new FakeClock();
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(
        () => new BandwidthChannel(clock, bad),
        (error: unknown) => error instanceof LodestoneError && error.code === 'LODESTONE_ERR_USAGE',
      );
      const channel = new BandwidthChannel(clock, 1000);
      assert.throws(() => channel.setRate(bad), LodestoneError);
      assert.equal(channel.rate, 1000, 'a refused change keeps the rate');
    }
    const huge = new BandwidthChannel(clock, Number.MAX_VALUE);
    clock.advance(1000);
    huge.use(2 ** 50);
    assert.equal(huge.delayMs(), 0);
  });
});

describe('BandwidthChain', () => {
  test('peers of a torrent share its limit fairly', () => {
    const clock = new FakeClock();
    const torrent = new BandwidthChannel(clock, 1 * MB);
    const chain = new BandwidthChain([torrent]);
    const peers = [peer(chain), peer(chain), peer(chain), peer(chain), peer(chain)];
    const start = clock.now() + 1000;
    for (const p of peers) run(clock, p, start);
    advance(clock, 11_000);
    const total = peers.reduce((sum, p) => sum + p.counted, 0);
    assert.ok(Math.abs(total - 10 * MB) <= 0.02 * 10 * MB, `${total}`);
    for (const p of peers) assert.ok(Math.abs(p.counted - total / 5) <= 0.1 * (total / 5), `${p.counted}`);
  });

  test('a peer reading small chunks is not starved by one reading large ones', () => {
    const clock = new FakeClock();
    const chain = new BandwidthChain([new BandwidthChannel(clock, 1 * MB)]);
    const big = peer(chain, 64 * 1024);
    const small = peer(chain, 1024);
    run(clock, big, clock.now());
    run(clock, small, clock.now());
    advance(clock, 10_000);
    // One turn each per round: the small reader gets about its chunk's share, never nothing.
    assert.ok(small.bytes >= (0.5 * (10 * MB * 1024)) / (65 * 1024), `${small.bytes}`);
  });

  test('a torrent limit below the client limit holds; the client limit bounds the sum', () => {
    const clock = new FakeClock();
    const client = new BandwidthChannel(clock, 3 * MB);
    const slow = new BandwidthChannel(clock, 1 * MB);
    const free = new BandwidthChannel(clock, 0);
    const a = peer(new BandwidthChain([slow, client]));
    const b = peer(new BandwidthChain([free, client]));
    const start = clock.now() + 1000;
    run(clock, a, start);
    run(clock, b, start);
    advance(clock, 11_000);
    assert.ok(Math.abs(a.counted - 10 * MB) <= 0.05 * 10 * MB, `torrent ${a.counted}`);
    assert.ok(Math.abs(a.counted + b.counted - 30 * MB) <= 0.05 * 30 * MB, `sum ${a.counted + b.counted}`);
  });

  test('two torrents under one client limit share it, neither starved', () => {
    const clock = new FakeClock();
    const client = new BandwidthChannel(clock, 2 * MB);
    const a = peer(new BandwidthChain([new BandwidthChannel(clock), client]), 16 * 1024);
    const b = peer(new BandwidthChain([new BandwidthChannel(clock), client]), 16 * 1024);
    const start = clock.now() + 1000;
    run(clock, a, start);
    run(clock, b, start);
    advance(clock, 11_000);
    const sum = a.counted + b.counted;
    assert.ok(Math.abs(sum - 20 * MB) <= 0.05 * 20 * MB, `${sum}`);
    assert.ok(a.counted >= 0.4 * sum && b.counted >= 0.4 * sum, `${a.counted} / ${b.counted}`);
  });

  test('a torrent that stops honouring the client limit leaves it', () => {
    const clock = new FakeClock();
    const client = new BandwidthChannel(clock, 1 * MB);
    const own = new BandwidthChannel(clock, 0);
    const chain = new BandwidthChain([own, client]);
    assert.equal(chain.limited, true);
    chain.use(10 * MB);
    assert.ok(chain.delayMs() > 0);
    chain.setChannels([own]);
    assert.equal(chain.limited, false);
    assert.equal(chain.delayMs(), 0);
  });

  test('property: any rate, chunk sizes and peers stay within the rate over 5 s', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 10_000, max: 20 * MB }),
        fc.array(fc.integer({ min: 1, max: 64 * 1024 }), { minLength: 1, maxLength: 5 }),
        (rate, chunks) => {
          const clock = new FakeClock();
          const chain = new BandwidthChain([new BandwidthChannel(clock, rate)]);
          const peers = chunks.map((chunk) => peer(chain, chunk));
          const start = clock.now() + 1000;
          for (const p of peers) run(clock, p, start);
          advance(clock, 6000);
          for (const p of peers) p.stopped = true;
          const moved = peers.reduce((sum, p) => sum + p.counted, 0);
          const demand = chunks.reduce((sum, chunk) => sum + chunk, 0) * (1000 / EVERY_MS) * 5;
          const slack = rate * BURST_SECONDS + chunks.reduce((sum, chunk) => sum + chunk, 0);
          assert.ok(moved <= rate * 5 + slack, `${moved} > ${rate * 5} + ${slack}`);
          // Never below the rate when the readers want more (no lost rounds).
          assert.ok(moved >= Math.min(demand, rate * 5) * 0.95 - slack, `${moved} < ${rate * 5}`);
        },
      ),
      { numRuns: 40 },
    );
  });
});
