import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AnnounceSpread } from '../../../src/session/announce-spread.js';
import { FakeClock } from '../../helpers/fake-clock.js';

test('AnnounceSpread: 1,000 torrents start announcing 20 per 500 ms, in arrival order', () => {
  const clock = new FakeClock();
  const spread = new AnnounceSpread(clock);
  const started: number[] = [];
  for (let i = 0; i < 1000; i++) spread.schedule(() => started.push(i));
  assert.equal(started.length, 20, 'the first round at once');
  clock.advance(499);
  assert.equal(started.length, 20);
  clock.advance(1);
  assert.equal(started.length, 40);
  clock.advance(500 * 48);
  assert.equal(started.length, 1000);
  assert.deepEqual(
    started,
    Array.from({ length: 1000 }, (_, i) => i),
  );
  assert.equal(clock.pendingTimers, 0, 'no timer once the queue is empty');
});

test('AnnounceSpread: a torrent alone starts at once; a cancelled one never starts', () => {
  const clock = new FakeClock();
  const spread = new AnnounceSpread(clock, 2, 1000);
  const started: string[] = [];
  spread.schedule(() => started.push('a'));
  assert.deepEqual(started, ['a']);
  spread.schedule(() => started.push('b'));
  const cancel = spread.schedule(() => started.push('c'));
  spread.schedule(() => started.push('d'));
  cancel();
  assert.equal(spread.waiting, 1);
  clock.advance(1000);
  assert.deepEqual(started, ['a', 'b', 'd']);
  // A new round later: room again at once.
  clock.advance(5000);
  spread.schedule(() => started.push('e'));
  assert.deepEqual(started, ['a', 'b', 'd', 'e']);
});

test('AnnounceSpread: close drops the waiting ones and the timer', () => {
  const clock = new FakeClock();
  const spread = new AnnounceSpread(clock, 1, 100);
  let n = 0;
  for (let i = 0; i < 5; i++) spread.schedule(() => n++);
  spread.close();
  clock.advance(10_000);
  assert.equal(n, 1);
  assert.equal(clock.pendingTimers, 0);
});
