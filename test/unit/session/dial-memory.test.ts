/**
 * DialMemory: what worked per address (the way in, TCP won the race), bounded, and the `allow`
 * policy's one encrypted retry after a plaintext connection the peer closed before its handshake.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import type { PeerConnection } from '../../../src/peer/peer-connection.js';
import { DialMemory, rememberWay } from '../../../src/session/dial-memory.js';

test('TCP only is remembered only when uTP was tried and TCP won', () => {
  const memory = new DialMemory();
  memory.connected('a:1', 'tcp', false);
  memory.connected('b:1', 'utp', true);
  memory.connected('c:1', 'tcp', true);
  assert.equal(memory.transport('a:1'), undefined);
  assert.equal(memory.transport('b:1'), undefined);
  assert.equal(memory.transport('c:1'), 'tcp');
});

test('the memory is bounded: the oldest address is forgotten first', () => {
  const memory = new DialMemory(3);
  for (const key of ['a:1', 'b:1', 'c:1', 'd:1']) {
    memory.setWay(key, 'plain');
    memory.connected(key, 'tcp', true);
  }
  assert.deepEqual(memory.size, { ways: 3, tcpOnly: 3 });
  assert.equal(memory.way('a:1'), undefined);
  assert.equal(memory.transport('a:1'), undefined);
  assert.equal(memory.way('d:1'), 'plain');
  assert.equal(memory.transport('d:1'), 'tcp');
  // Setting a way again makes it the newest.
  memory.setWay('b:1', 'mse');
  memory.setWay('e:1', 'plain');
  assert.equal(memory.way('b:1'), 'mse');
  assert.equal(memory.way('c:1'), undefined);
});

function fakeConnection(key: string): PeerConnection & EventEmitter {
  const connection = new EventEmitter() as PeerConnection & EventEmitter;
  Object.assign(connection, { key, remoteHandshake: undefined });
  return connection;
}

test('the way is remembered once the peer handshakes', () => {
  const memory = new DialMemory();
  const connection = fakeConnection('a:1');
  let retries = 0;
  rememberWay(memory, connection, 'mse', 'prefer', () => retries++);
  assert.equal(memory.way('a:1'), undefined);
  connection.emit('handshake', {});
  Object.assign(connection, { remoteHandshake: {} });
  connection.emit('close', 'done');
  assert.equal(memory.way('a:1'), 'mse');
  assert.equal(retries, 0);
});

test('allow: a plaintext connection closed before the handshake is retried once, encrypted', () => {
  const memory = new DialMemory();
  let retries = 0;
  const first = fakeConnection('a:1');
  rememberWay(memory, first, 'plain', 'allow', () => retries++);
  first.emit('close', 'connection closed by peer');
  assert.equal(memory.way('a:1'), 'mse');
  assert.equal(retries, 1);
  // Not under prefer (MSE was tried first already), nor twice.
  const second = fakeConnection('a:1');
  rememberWay(memory, second, 'plain', 'allow', () => retries++);
  second.emit('close', 'closed again');
  const third = fakeConnection('b:1');
  rememberWay(memory, third, 'plain', 'prefer', () => retries++);
  third.emit('close', 'closed');
  assert.equal(retries, 1);
  assert.equal(memory.way('b:1'), undefined);
});
