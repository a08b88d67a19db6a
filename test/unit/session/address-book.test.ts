import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AddressBook } from '../../../src/session/address-book.js';

describe('AddressBook', () => {
  test('rejects invalid addresses and duplicates', () => {
    const book = new AddressBook(() => 0);
    assert.equal(book.add({ host: '127.0.0.2', port: 0 }, 'tracker'), false);
    assert.equal(book.add({ host: 'example.org', port: 1 }, 'tracker'), false);
    assert.equal(book.add({ host: '127.0.0.2', port: 6881 }, 'tracker'), true);
    assert.equal(book.add({ host: '127.0.0.2', port: 6881 }, 'tracker'), false);
    assert.equal(book.add({ host: '::1', port: 6881 }, 'tracker'), true);
    assert.equal(book.size, 2);
  });

  test('backs off failed dials exponentially and forgets hopeless peers', () => {
    let now = 0;
    const book = new AddressBook(() => now);
    book.add({ host: '127.0.0.2', port: 1 }, 'tracker');
    assert.equal(book.candidates(10, new Set()).length, 1);
    book.markDisconnected('127.0.0.2:1', false);
    assert.equal(book.candidates(10, new Set()).length, 0);
    now += 15_000;
    assert.equal(book.candidates(10, new Set()).length, 1);
    book.markDisconnected('127.0.0.2:1', false);
    now += 15_000;
    assert.equal(book.candidates(10, new Set()).length, 0, 'second failure waits 30 s');
    now += 15_000;
    assert.equal(book.candidates(10, new Set()).length, 1);
    for (let i = 0; i < 10; i++) book.markDisconnected('127.0.0.2:1', false);
    assert.equal(book.size, 0);
  });

  test('connected and skipped addresses are not candidates; bans remove a host', () => {
    const book = new AddressBook(() => 0);
    book.add({ host: '127.0.0.2', port: 1 }, 'tracker');
    book.add({ host: '127.0.0.3', port: 1 }, 'tracker');
    book.add({ host: '127.0.0.3', port: 2 }, 'tracker');
    book.markConnected('127.0.0.2:1');
    assert.deepEqual(
      book.candidates(10, new Set(['127.0.0.3:2'])).map((a) => `${a.host}:${a.port}`),
      ['127.0.0.3:1'],
    );
    book.ban('127.0.0.3');
    assert.equal(book.candidates(10, new Set()).length, 0);
    assert.equal(book.add({ host: '127.0.0.3', port: 9 }, 'tracker'), false);
    assert.ok(book.isBanned('127.0.0.3'));
  });
});

test('untried counts addresses never dialled, ready now and not skipped', () => {
  let now = 0;
  const book = new AddressBook(() => now);
  book.add({ host: '127.0.0.1', port: 1 }, 'tracker');
  book.add({ host: '127.0.0.2', port: 2 }, 'tracker');
  book.add({ host: '127.0.0.3', port: 3 }, 'tracker');
  assert.equal(book.untried(new Set()), 3);
  book.markConnected('127.0.0.1:1');
  book.markDisconnected('127.0.0.1:1', false);
  now += 60_000; // past its back-off: dialable again, but not untried
  assert.equal(book.untried(new Set()), 2, 'a dialled address is tried, even once it is gone');
  assert.equal(book.untried(new Set(['127.0.0.2:2'])), 1, 'one being dialled is skipped');
  assert.equal(book.candidates(10, new Set()).length, 3);
  assert.equal(book.untried(new Set()), 0, 'handed out to dial counts as tried');
});

test('a deferred address (reachable, but the slots were full) is untried again and dialable', () => {
  const book = new AddressBook(() => 0);
  book.add({ host: '127.0.0.1', port: 1 }, 'tracker');
  assert.equal(book.candidates(10, new Set()).length, 1);
  assert.equal(book.untried(new Set()), 0);
  book.markDeferred('127.0.0.1:1');
  assert.equal(book.untried(new Set()), 1);
  assert.equal(book.candidates(10, new Set()).length, 1);
});
