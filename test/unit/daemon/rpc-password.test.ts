import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  constantTimeEqual,
  hashRpcPassword,
  isHashedRpcPassword,
  verifyRpcPassword,
} from '../../../src/daemon/rpc-password.js';

describe('RPC passwords (Transmission settings.json format)', () => {
  test('a hashed password is "{" + sha1(password + salt) + salt', () => {
    const stored = hashRpcPassword('secret', 'abcdefgh');
    const sha = createHash('sha1').update('secretabcdefgh').digest('hex');
    assert.equal(stored, `{${sha}abcdefgh`);
    assert.ok(isHashedRpcPassword(stored));
    assert.ok(!isHashedRpcPassword('secret'));
  });

  test('verifies the right password and refuses others, hashed or plain', () => {
    const stored = hashRpcPassword('secret');
    assert.ok(verifyRpcPassword(stored, 'secret'));
    assert.ok(!verifyRpcPassword(stored, 'Secret'));
    assert.ok(!verifyRpcPassword(stored, ''));
    assert.ok(verifyRpcPassword('plain', 'plain'));
    assert.ok(!verifyRpcPassword('plain', 'plain2'));
  });

  test('two hashes of one password differ by their salt', () => {
    assert.notEqual(hashRpcPassword('x'), hashRpcPassword('x'));
  });

  test('constant-time equality is still equality', () => {
    assert.ok(constantTimeEqual('abc', 'abc'));
    assert.ok(!constantTimeEqual('abc', 'abd'));
    assert.ok(!constantTimeEqual('abc', 'abcd'));
  });
});
