/** `mapLimit`: results in the items' order, never more than `limit` calls under way. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mapLimit } from '../../../src/daemon/map-limit.js';

describe('mapLimit', { timeout: 10_000 }, () => {
  test('keeps the order of the items when calls end in another order, and the bound', async () => {
    const pending: { index: number; resolve: (value: string) => void }[] = [];
    let running = 0;
    let most = 0;
    const done = mapLimit([0, 1, 2, 3, 4, 5, 6], 3, (item, index) => {
      assert.equal(item, index);
      running++;
      most = Math.max(most, running);
      return new Promise<string>((resolve) =>
        pending.push({
          index,
          resolve: (value) => {
            running--;
            resolve(value);
          },
        }),
      );
    });
    // Always end the newest call first: completion order is the reverse of start order.
    while (pending.length > 0 || running > 0) {
      await new Promise((resolve) => setImmediate(resolve));
      const call = pending.pop();
      call?.resolve(`v${call.index}`);
    }
    assert.deepEqual(await done, ['v0', 'v1', 'v2', 'v3', 'v4', 'v5', 'v6']);
    assert.equal(most, 3);
  });

  test('no items, no calls; a failing call rejects', async () => {
    assert.deepEqual(await mapLimit([], 4, async () => assert.fail('called')), []);
    await assert.rejects(
      mapLimit([1, 2], 2, async (item) => {
        if (item === 2) throw new Error('two');
        return item;
      }),
      /two/,
    );
  });
});
