import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encode } from '../../../src/bencode/index.js';
import { WireError } from '../../../src/errors.js';
import {
  decodeExtensionHandshake,
  EXTENSION_HANDSHAKE_ID,
  encodeExtensionHandshake,
  LOCAL_EXTENSION_IDS,
} from '../../../src/wire/extension.js';

const text = (value: string) => new TextEncoder().encode(value);

describe('extension handshake (BEP 10)', () => {
  test('constants', () => {
    assert.equal(EXTENSION_HANDSHAKE_ID, 0);
    const ids = Object.values(LOCAL_EXTENSION_IDS);
    assert.ok(ids.every((id) => id > 0 && id <= 255));
    assert.equal(new Set(ids).size, ids.length);
  });

  test('round trips every field', () => {
    const handshake = {
      m: new Map([
        ['ut_metadata', 3],
        ['ut_pex', 1],
      ]),
      v: 'Lodestone 0.1.0',
      p: 6881,
      reqq: 250,
      yourip: Uint8Array.from([127, 0, 0, 1]),
      metadataSize: 31235,
      ipv4: Uint8Array.from([10, 0, 0, 2]),
      ipv6: Uint8Array.from({ length: 16 }, (_, i) => i),
    };
    const payload = encodeExtensionHandshake(handshake);
    assert.ok(payload.toString('latin1').includes('1:md11:ut_metadatai3e6:ut_pexi1ee13:metadata_size'));
    assert.deepStrictEqual(decodeExtensionHandshake(payload), handshake);
  });

  test('an empty dictionary decodes to an empty m', () => {
    assert.deepStrictEqual(decodeExtensionHandshake(text('de')), { m: new Map() });
    assert.equal(encodeExtensionHandshake({ m: new Map() }).toString('latin1'), 'd1:mdee');
  });

  test('ignores unknown keys, wrong types and out-of-range values', () => {
    const payload = encode({
      m: { ut_metadata: 2, ut_pex: 'one', lt_donthave: -1, too_big: 256, disabled: 0, nested: { a: 1 } },
      v: 42,
      p: 'not a port',
      reqq: -5,
      yourip: Uint8Array.from([1, 2, 3, 4, 5]),
      metadata_size: -1,
      ipv4: Uint8Array.from([1, 2, 3]),
      ipv6: 'short',
      complete_ago: 1,
      upload_only: 1,
      e: 0,
    });
    assert.deepStrictEqual(decodeExtensionHandshake(payload), {
      m: new Map([
        ['disabled', 0],
        ['ut_metadata', 2],
      ]),
    });
    assert.deepStrictEqual(decodeExtensionHandshake(encode({ m: 5, p: 70000 })), { m: new Map() });
  });

  test('accepts unsorted and duplicate keys (lenient), first value wins', () => {
    const payload = text('d1:v3:abc1:md6:ut_pexi1e6:ut_pexi2ee1:pi80ee');
    const decoded = decodeExtensionHandshake(payload);
    assert.equal(decoded.v, 'abc');
    assert.equal(decoded.p, 80);
    assert.deepStrictEqual(decoded.m, new Map([['ut_pex', 1]]));
  });

  test('byte fields are copies of the payload', () => {
    const payload = encode({ m: {}, yourip: Uint8Array.from([1, 2, 3, 4]) });
    const decoded = decodeExtensionHandshake(payload);
    payload.fill(0);
    assert.deepEqual(decoded.yourip, Uint8Array.from([1, 2, 3, 4]));
  });

  test('non-dictionaries and malformed bencode are WireErrors', () => {
    for (const bad of ['', 'le', 'i1e', '4:spam', 'd1:m', 'd1:mde trailing', 'x']) {
      assert.throws(() => decodeExtensionHandshake(text(bad)), WireError, bad);
    }
    const deep = `d1:m${'l'.repeat(20)}${'e'.repeat(20)}e`;
    assert.throws(() => decodeExtensionHandshake(text(deep)), WireError);
  });

  test('encoding an id outside 0..255 or a non-integer is a WireError', () => {
    assert.throws(() => encodeExtensionHandshake({ m: new Map([['x', 256]]) }), WireError);
    assert.throws(() => encodeExtensionHandshake({ m: new Map([['x', -1]]) }), WireError);
    assert.throws(() => encodeExtensionHandshake({ m: new Map(), p: 1.5 }), WireError);
  });
});
