import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { allowedFastSet } from '../../../src/policy/allowed-fast.js';

const INFO_HASH = new Uint8Array(20).fill(0xaa);
const IP = Uint8Array.from([80, 4, 4, 200]);

describe('allowedFastSet (BEP 6)', () => {
  test("the BEP's vector: 7 pieces for 80.4.4.200, 1313 pieces, info-hash 0xaa…", () => {
    assert.deepEqual(allowedFastSet(IP, INFO_HASH, 1313, 7), [1059, 431, 808, 1217, 287, 376, 1188]);
  });

  test("the BEP's vector: 9 pieces (two more from the next digest)", () => {
    assert.deepEqual(
      allowedFastSet(IP, INFO_HASH, 1313, 9),
      [1059, 431, 808, 1217, 287, 376, 1188, 353, 508],
    );
  });

  test('the address is masked to its /24: 80.4.4.1 gets the same set', () => {
    assert.deepEqual(
      allowedFastSet(Uint8Array.from([80, 4, 4, 1]), INFO_HASH, 1313, 9),
      allowedFastSet(IP, INFO_HASH, 1313, 9),
    );
    assert.notDeepEqual(
      allowedFastSet(Uint8Array.from([80, 4, 5, 200]), INFO_HASH, 1313, 9),
      allowedFastSet(IP, INFO_HASH, 1313, 9),
    );
  });

  test('an IPv4-mapped IPv6 address counts as its IPv4 address; other IPv6 gets no set', () => {
    const mapped = new Uint8Array(16);
    mapped.set([0xff, 0xff, 80, 4, 4, 200], 10);
    assert.deepEqual(allowedFastSet(mapped, INFO_HASH, 1313, 7), [1059, 431, 808, 1217, 287, 376, 1188]);
    const v6 = new Uint8Array(16);
    v6[15] = 1;
    assert.deepEqual(allowedFastSet(v6, INFO_HASH, 1313, 7), []);
  });

  test('k is capped at the piece count (the chain would never find more distinct pieces)', () => {
    const set = allowedFastSet(IP, INFO_HASH, 3, 10);
    assert.deepEqual([...set].sort(), [0, 1, 2]);
    assert.deepEqual(allowedFastSet(IP, INFO_HASH, 0, 10), []);
  });
});
