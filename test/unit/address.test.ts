import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addressBytes, formatAddress, parseAddress } from '../../src/address.js';

test('addressBytes gives the 4 or 16 bytes of a literal address', () => {
  assert.deepEqual([...addressBytes('127.0.0.2')!], [127, 0, 0, 2]);
  assert.deepEqual([...addressBytes('::1')!], [...new Array(15).fill(0), 1]);
  assert.deepEqual(
    [...addressBytes('2001:db8::8:1')!],
    [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 1],
  );
  assert.deepEqual([...addressBytes('::ffff:127.0.0.1')!].slice(10), [0xff, 0xff, 127, 0, 0, 1]);
  assert.equal(addressBytes('example.org'), undefined);
});

test('parseAddress and formatAddress round trip IPv4 and bracketed IPv6', () => {
  for (const text of ['127.0.0.2:6881', '[::1]:51413'])
    assert.equal(formatAddress(parseAddress(text)!), text);
  for (const bad of ['127.0.0.2', '127.0.0.2:0', '[::1]', 'host:80', '1.2.3.4:65536']) {
    assert.equal(parseAddress(bad), undefined, bad);
  }
});
