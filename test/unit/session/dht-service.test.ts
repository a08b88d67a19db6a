import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isSecureNodeId } from '../../../src/dht/secure-id.js';
import { nextRunId } from '../../../src/session/dht-service.js';

const random = (length: number) => new Uint8Array(length).fill(0x5a);

describe('nextRunId (BEP 42 across runs)', { timeout: 10_000 }, () => {
  const insecure = new Uint8Array(20).fill(0xff);

  test('an id not secure for the external IP the network reports is replaced by a secure one', () => {
    assert.equal(isSecureNodeId(insecure, '203.0.113.7'), false);
    const next = nextRunId({ id: insecure, externalIp: () => '203.0.113.7' }, random);
    assert.notDeepEqual(next, insecure);
    assert.ok(isSecureNodeId(next, '203.0.113.7'));
    // Secure already: kept.
    assert.deepEqual(nextRunId({ id: next, externalIp: () => '203.0.113.7' }, random), next);
  });

  test('kept when the IP is unknown, or loopback/private (exempt)', () => {
    assert.deepEqual(nextRunId({ id: insecure, externalIp: () => undefined }, random), insecure);
    assert.deepEqual(nextRunId({ id: insecure, externalIp: () => '127.0.0.5' }, random), insecure);
    assert.deepEqual(nextRunId({ id: insecure, externalIp: () => '192.168.1.20' }, random), insecure);
  });
});
