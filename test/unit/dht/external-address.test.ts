/** Our external address from the `ip` field of replies: one vote per responder, two must agree, bounded. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ExternalAddressVotes } from '../../../src/dht/external-address.js';

const ME = { host: '203.0.113.5', port: 6881 };
const LIE = { host: '198.51.100.1', port: 1 };

describe('ExternalAddressVotes', () => {
  test('two distinct responders must agree; one host votes once', () => {
    const votes = new ExternalAddressVotes();
    votes.vote('10.0.0.1', ME);
    assert.equal(votes.current(), undefined);
    votes.vote('10.0.0.1', ME);
    assert.equal(votes.current(), undefined, 'the same responder twice is one vote');
    votes.vote('10.0.0.2', ME);
    assert.deepEqual(votes.current(), ME);
  });

  test('the majority wins; a liar repeating itself does not', () => {
    const votes = new ExternalAddressVotes();
    for (let i = 0; i < 5; i++) votes.vote('10.6.6.6', LIE);
    votes.vote('10.0.0.7', LIE);
    votes.vote('10.0.0.1', ME);
    votes.vote('10.0.0.2', ME);
    votes.vote('10.0.0.3', ME);
    assert.deepEqual(votes.current(), ME);
  });

  test('old votes are forgotten beyond the voter bound', () => {
    const votes = new ExternalAddressVotes(4);
    for (let i = 1; i <= 5; i++) votes.vote(`10.0.0.${i}`, LIE);
    for (let i = 10; i < 14; i++) votes.vote(`10.0.0.${i}`, ME);
    assert.deepEqual(votes.current(), ME);
  });
});
