import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  hostName,
  isAddressAllowed,
  isAuthorized,
  isHostAllowed,
  isLoopbackAddress,
  parseBasicAuth,
  wildcardMatch,
} from '../../../../src/daemon/rpc/access.js';
import { nestingDepth, parseRpcJson } from '../../../../src/daemon/rpc/json.js';
import { hashRpcPassword } from '../../../../src/daemon/rpc-password.js';

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('RPC access rules', () => {
  test('address whitelist: wildcards, IPv4-mapped addresses, disabled = everyone', () => {
    assert.ok(isAddressAllowed('127.0.0.1', true, '127.0.0.1,::1'));
    assert.ok(isAddressAllowed('::ffff:127.0.0.1', true, '127.0.0.1'));
    assert.ok(isAddressAllowed('192.168.1.7', true, '127.0.0.1, 192.168.*.*'));
    assert.ok(!isAddressAllowed('10.0.0.1', true, '127.0.0.1,192.168.*.*'));
    assert.ok(!isAddressAllowed('127.0.0.10', true, '127.0.0.1'));
    assert.ok(isAddressAllowed('10.0.0.1', false, '127.0.0.1'));
    assert.ok(wildcardMatch('a.b', 'a?b'));
    assert.ok(!wildcardMatch('axxb', 'a.b'));
  });

  test('Host header: IP literals and localhost pass, other names only when whitelisted', () => {
    const on = { passwordRequired: false, enabled: true, whitelist: 'nas.lan, *.home' };
    assert.ok(isHostAllowed('127.0.0.1:9091', on));
    assert.ok(isHostAllowed('[::1]:9091', on));
    assert.ok(isHostAllowed('localhost:9091', on));
    assert.ok(isHostAllowed('NAS.lan', on));
    assert.ok(isHostAllowed('tv.home:80', on));
    assert.ok(!isHostAllowed('evil.example:9091', on));
    assert.ok(!isHostAllowed('localhost.evil.example', on));
    assert.ok(!isHostAllowed(undefined, on));
    assert.ok(!isHostAllowed('a:b:c', on));
    // As Transmission: not checked with a password, nor when disabled.
    assert.ok(isHostAllowed('evil.example', { ...on, passwordRequired: true }));
    assert.ok(isHostAllowed('evil.example', { ...on, enabled: false }));
    assert.equal(hostName('[::1]:80'), '::1');
    assert.equal(hostName('[::1]x'), undefined);
  });

  test('basic auth: right user and password only (hashed or plain stored password)', () => {
    const stored = hashRpcPassword('pw');
    const settings = { required: true, username: 'me', password: stored };
    assert.ok(isAuthorized(basic('me', 'pw'), settings));
    assert.ok(!isAuthorized(basic('me', 'pW'), settings));
    assert.ok(!isAuthorized(basic('you', 'pw'), settings));
    assert.ok(!isAuthorized(undefined, settings));
    assert.ok(!isAuthorized('Bearer x', settings));
    assert.ok(!isAuthorized(`Basic ${Buffer.from('nocolon').toString('base64')}`, settings));
    assert.ok(isAuthorized(undefined, { ...settings, required: false }));
    assert.deepEqual(parseBasicAuth(basic('a', 'b:c')), { user: 'a', password: 'b:c' });
  });

  test('loopback addresses', () => {
    for (const a of ['127.0.0.1', '127.9.8.7', '::1', '::ffff:127.0.0.1', 'localhost'])
      assert.ok(isLoopbackAddress(a), a);
    for (const a of ['0.0.0.0', '::', '192.168.1.2', '128.0.0.1']) assert.ok(!isLoopbackAddress(a), a);
  });
});

describe('RPC JSON bodies', () => {
  test('nesting is measured outside strings', () => {
    assert.equal(nestingDepth('{"a":[1,{"b":"[[[["}]}'), 3);
    assert.equal(nestingDepth('"\\"[["'), 0);
  });

  test('too deep is refused before parsing; malformed is reported', () => {
    assert.deepEqual(parseRpcJson('['.repeat(100_000)), { ok: false, reason: 'too-deep' });
    assert.deepEqual(parseRpcJson(`${'['.repeat(32)}${']'.repeat(32)}`).ok, true);
    assert.deepEqual(parseRpcJson(`${'['.repeat(33)}${']'.repeat(33)}`), { ok: false, reason: 'too-deep' });
    assert.deepEqual(parseRpcJson('{"method":'), { ok: false, reason: 'malformed' });
  });
});
