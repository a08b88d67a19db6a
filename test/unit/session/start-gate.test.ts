import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StartGate } from '../../../src/session/start-gate.js';

test('StartGate: at most `limit` at once, the others in arrival order', async () => {
  const gate = new StartGate(2);
  const order: number[] = [];
  let running = 0;
  let peak = 0;
  const releases = new Map<number, () => void>();
  const jobs = Array.from({ length: 6 }, async (_, i) => {
    const release = await gate.acquire();
    running++;
    peak = Math.max(peak, running);
    order.push(i);
    await new Promise<void>((resolve) => releases.set(i, resolve));
    running--;
    release();
    release(); // idempotent: a second call frees nothing more
  });
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  await settle();
  assert.deepEqual(order, [0, 1]);
  assert.equal(gate.waiting, 4);
  releases.get(1)!();
  await settle();
  assert.deepEqual(order, [0, 1, 2]);
  for (const i of [0, 2, 3, 4, 5]) {
    await settle();
    releases.get(i)?.();
  }
  for (let k = 0; k < 6 && releases.size < 6; k++) await settle();
  for (const release of releases.values()) release();
  await Promise.all(jobs);
  assert.deepEqual(order, [0, 1, 2, 3, 4, 5]);
  assert.equal(peak, 2);
  assert.equal(gate.running, 0);
  assert.equal(gate.waiting, 0);
});

test('StartGate: a limit below 1 is 1', () => {
  assert.equal(new StartGate(0).limit, 1);
});
