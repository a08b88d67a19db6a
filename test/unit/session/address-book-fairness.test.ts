/**
 * Issue 15, "tracker eclipse": the address book is fair across the origins of addresses (which
 * tracker or peer told us), evicts failed addresses first, and interleaves origins when dialling.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PeerAddress } from '../../../src/address.js';
import { AddressBook, MAX_BOOK_ENTRIES } from '../../../src/session/address-book.js';

const JUNK = 'http://127.0.0.1:1/junk/announce';
const HONEST = 'http://127.0.0.1:2/honest/announce';

/** The n-th junk address: 127.1.x.y:1. */
function junk(n: number): PeerAddress {
  return { host: `127.1.${(n >> 8) & 255}.${n & 255}`, port: 1 + (n >> 16) };
}

const key = (address: PeerAddress): string => `${address.host}:${address.port}`;
const seeder: PeerAddress = { host: '127.9.9.9', port: 6881 };

describe('AddressBook fairness across origins', () => {
  test('20,000 junk addresses from one tracker, then one from another: it is kept and among the first candidates', () => {
    const book = new AddressBook(() => 0);
    let kept = 0;
    for (let i = 0; i < 20_000; i++) if (book.add(junk(i), 'tracker', JUNK)) kept++;
    assert.equal(kept, MAX_BOOK_ENTRIES, 'the book stays bounded');
    assert.equal(book.add(seeder, 'tracker', HONEST), true, 'the new origin gets room');
    assert.equal(book.size, MAX_BOOK_ENTRIES);
    assert.equal(book.countFrom('tracker', JUNK), MAX_BOOK_ENTRIES - 1, 'the largest origin gave up one');
    const first = book.candidates(5, new Set()).map(key);
    assert.equal(first.length, 5);
    assert.equal(first[0], key(seeder), `the honest seeder is dialled first: ${first.join(', ')}`);
  });

  test('the honest address is a candidate even after the junk origin was served many times', () => {
    const book = new AddressBook(() => 0);
    for (let i = 0; i < 3000; i++) book.add(junk(i), 'tracker', JUNK);
    // 2,000 junk addresses handed out already (as a busy session would have).
    for (let round = 0; round < 20; round++) book.candidates(100, new Set());
    book.add(seeder, 'tracker', HONEST);
    assert.deepEqual(book.candidates(1, new Set()).map(key), [key(seeder)]);
  });

  test('candidates interleave origins round robin', () => {
    const book = new AddressBook(() => 0);
    for (let i = 0; i < 10; i++) book.add(junk(i), 'tracker', JUNK);
    book.add({ host: '127.2.0.1', port: 1 }, 'tracker', HONEST);
    book.add({ host: '127.2.0.2', port: 1 }, 'tracker', HONEST);
    book.add({ host: '127.3.0.1', port: 1 }, 'incoming');
    const picked = book.candidates(6, new Set()).map(key);
    // None served yet: the newest origin first.
    assert.deepEqual(picked, [
      '127.3.0.1:1',
      '127.2.0.1:1',
      '127.1.0.0:1',
      '127.2.0.2:1',
      '127.1.0.1:1',
      '127.1.0.2:1',
    ]);
    // The next round (those six being dialled) starts with the origin served least; only junk is left.
    assert.deepEqual(book.candidates(2, new Set(picked)).map(key), ['127.1.0.3:1', '127.1.0.4:1']);
  });

  test('an origin at its share only replaces its own failed addresses', () => {
    const book = new AddressBook(() => 0, { maxEntries: 10 });
    for (let i = 0; i < 10; i++) assert.ok(book.add(junk(i), 'tracker', JUNK));
    assert.equal(book.add(junk(10), 'tracker', JUNK), false, 'full, nothing failed: dropped');
    book.markDisconnected(key(junk(3)), false);
    assert.equal(book.add(junk(11), 'tracker', JUNK), true, 'replaces its failed address');
    assert.equal(book.size, 10);
    assert.ok(
      !book
        .addresses()
        .map(key)
        .includes(key(junk(3))),
      'the failed one went',
    );
  });

  test('quotas: two origins end with fair shares, whatever came first', () => {
    const book = new AddressBook(() => 0, { maxEntries: 100 });
    for (let i = 0; i < 500; i++) book.add(junk(i), 'tracker', JUNK);
    for (let i = 0; i < 500; i++)
      book.add({ host: `127.2.${i >> 8}.${i & 255}`, port: 7 }, 'tracker', HONEST);
    assert.equal(book.size, 100);
    assert.equal(book.countFrom('tracker', JUNK), 50);
    assert.equal(book.countFrom('tracker', HONEST), 50);
    // A third origin gets a third, taken from the two larger ones.
    for (let i = 0; i < 500; i++)
      book.add({ host: `127.3.${i >> 8}.${i & 255}`, port: 7 }, 'pex', '127.0.0.5:1');
    assert.equal(book.countFrom('pex', '127.0.0.5:1'), 33);
    assert.equal(book.size, 100);
  });

  test('when full, failed addresses of the largest origin are evicted first', () => {
    const book = new AddressBook(() => 0, { maxEntries: 10 });
    for (let i = 0; i < 10; i++) book.add(junk(i), 'tracker', JUNK);
    book.markDisconnected(key(junk(7)), false); // refused
    book.markDisconnected(key(junk(8)), false); // timed out
    book.add(seeder, 'tracker', HONEST);
    const left = book.addresses().map(key);
    assert.ok(!left.includes(key(junk(7))), 'the first failed address was evicted');
    assert.ok(left.includes(key(junk(0))), 'an untried one stays while a failed one can go');
    book.add({ host: '127.9.9.10', port: 1 }, 'tracker', HONEST);
    assert.ok(
      !book
        .addresses()
        .map(key)
        .includes(key(junk(8))),
      'then the next failed one',
    );
  });

  test('connected and user-given addresses are never evicted', () => {
    const book = new AddressBook(() => 0, { maxEntries: 4 });
    book.add({ host: '127.4.0.1', port: 1 }, 'manual');
    book.add({ host: '127.4.0.2', port: 1 }, 'manual');
    book.add(junk(0), 'tracker', JUNK);
    book.add(junk(1), 'tracker', JUNK);
    book.markConnected(key(junk(0)));
    book.markConnected(key(junk(1)));
    assert.equal(book.add(seeder, 'tracker', HONEST), false, 'nothing evictable');
    assert.equal(book.size, 4);
    book.markDisconnected(key(junk(1)), false);
    assert.equal(book.add(seeder, 'tracker', HONEST), true);
    assert.deepEqual(
      book.addresses().map(key).sort(),
      ['127.1.0.0:1', '127.4.0.1:1', '127.4.0.2:1', key(seeder)].sort(),
    );
  });

  test('retries come after every fresh address, fewest failures first', () => {
    let now = 0;
    const book = new AddressBook(() => now);
    book.add(junk(0), 'tracker', JUNK);
    book.add(junk(1), 'tracker', JUNK);
    book.markDisconnected(key(junk(0)), false);
    book.markDisconnected(key(junk(1)), false);
    book.markDisconnected(key(junk(1)), false);
    now += 120_000;
    book.add(seeder, 'tracker', HONEST);
    assert.deepEqual(book.candidates(10, new Set()).map(key), [key(seeder), key(junk(0)), key(junk(1))]);
  });
});

test('addresses for the next phase: those reached first, then never failed, then failed ones', () => {
  const book = new AddressBook(() => 0);
  for (let i = 0; i < 5; i++) book.add(junk(i), 'tracker', JUNK);
  book.add(seeder, 'tracker', HONEST);
  book.markDisconnected(key(junk(0)), false);
  book.markDisconnected(key(junk(1)), false);
  book.markConnected(key(seeder));
  book.markDisconnected(key(seeder), true); // it served us, then the phase ended
  assert.deepEqual(book.addresses().map(key), [
    key(seeder),
    key(junk(2)),
    key(junk(3)),
    key(junk(4)),
    key(junk(0)),
    key(junk(1)),
  ]);
});
