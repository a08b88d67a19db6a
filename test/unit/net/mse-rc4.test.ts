import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Rc4 } from '../../../src/net/mse/rc4.js';

function keystream(key: Uint8Array, length: number, discard = 0): Buffer {
  const out = Buffer.alloc(length);
  new Rc4(key, discard).process(out);
  return out;
}

test('RC4 matches RFC 6229 for the 40-bit key 0x0102030405 at offsets 0, 16, 1024 and 4096', () => {
  const key = Buffer.from('0102030405', 'hex');
  const stream = keystream(key, 4112);
  assert.equal(stream.subarray(0, 16).toString('hex'), 'b2396305f03dc027ccc3524a0a1118a8');
  assert.equal(stream.subarray(16, 32).toString('hex'), '6982944f18fc82d589c403a47a0d0919');
  assert.equal(stream.subarray(1024, 1040).toString('hex'), '30abbcc7c20b01609f23ee2d5f6bb7df');
  assert.equal(stream.subarray(4096, 4112).toString('hex'), 'ff25b58995996707e51fbdf08b34d875');
});

test('RC4 matches RFC 6229 for the 128-bit key 0x0102…10, and discarding 1024 bytes starts at offset 1024', () => {
  const key = Buffer.from('0102030405060708090a0b0c0d0e0f10', 'hex');
  assert.equal(keystream(key, 16).toString('hex'), '9ac7cc9a609d1ef7b2932899cde41b97');
  assert.equal(keystream(key, 16, 1024).toString('hex'), 'bdf0324e6083dcc6d3cedd3ca8c53c16');
});

test('RC4 encrypts the classic "Key"/"Plaintext" example and decrypts it back', () => {
  const data = Buffer.from('Plaintext');
  new Rc4(Buffer.from('Key')).process(data);
  assert.equal(data.toString('hex'), 'bbf316e8d940af0ad3');
  new Rc4(Buffer.from('Key')).process(data);
  assert.equal(data.toString(), 'Plaintext');
});

test('RC4 keeps its keystream position across calls and works on a range in place', () => {
  const key = Buffer.from('Secret');
  const whole = Buffer.from('Attack at dawn');
  new Rc4(key).process(whole);
  assert.equal(whole.toString('hex'), '45a01f645fc35b383552544b9bf5');
  const pieces = Buffer.from('xxAttack at dawnyy');
  const cipher = new Rc4(key);
  cipher.process(pieces, 2, 5);
  cipher.process(pieces, 5, 16);
  assert.equal(pieces.subarray(2, 16).toString('hex'), whole.toString('hex'));
  assert.equal(pieces.subarray(0, 2).toString(), 'xx');
  assert.equal(pieces.subarray(16).toString(), 'yy');
  const skipped = new Rc4(key);
  skipped.skip(8);
  const tail = Buffer.from('at dawn'.slice(1));
  skipped.process(tail);
  assert.equal(tail.toString('hex'), whole.subarray(8).toString('hex'));
});

test('RC4 gives the same bytes for every alignment and length (the word-at-a-time path and the byte path agree)', () => {
  const key = Buffer.from('alignment');
  // One byte per call never takes the word path.
  const reference = Buffer.alloc(300);
  const byByte = new Rc4(key);
  for (let k = 0; k < reference.length; k++) byByte.process(reference, k, k + 1);
  const backing = Buffer.alloc(320);
  for (let offset = 0; offset < 8; offset++) {
    for (const length of [0, 1, 3, 4, 5, 7, 64, 255, 300]) {
      const view = backing.subarray(offset, offset + length).fill(0);
      const cipher = new Rc4(key);
      const cut = Math.min(length, 3);
      cipher.process(view, 0, cut);
      cipher.process(view, cut, length);
      assert.deepEqual(view, reference.subarray(0, length), `offset ${offset}, length ${length}`);
    }
  }
});

/** RC4 one byte per call: never the word path, so an independent reference for the fast paths. */
function byteAtATime(key: Uint8Array, discard: number, data: Uint8Array): Uint8Array {
  const out = Uint8Array.from(data);
  const cipher = new Rc4(key, discard);
  for (let k = 0; k < out.length; k++) cipher.process(out, k, k + 1);
  return out;
}

test('RC4 property: any split into chunks, at any offset in a larger buffer, equals one byte at a time', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 1, maxLength: 32 }),
      fc.integer({ min: 0, max: 1100 }),
      fc.uint8Array({ minLength: 0, maxLength: 600 }),
      fc.integer({ min: 0, max: 7 }),
      fc.array(fc.integer({ min: 0, max: 600 }), { maxLength: 8 }),
      (key, discard, data, offset, cuts) => {
        const expected = byteAtATime(key, discard, data);
        // In place, inside a larger buffer at `offset`, cut at arbitrary points.
        const backing = new Uint8Array(offset + data.length + 5).fill(0xa5);
        backing.set(data, offset);
        const cipher = new Rc4(key, discard);
        const points = [...new Set(cuts.map((cut) => cut % (data.length + 1)))].sort((a, b) => a - b);
        let at = 0;
        for (const point of [...points, data.length]) {
          cipher.process(backing, offset + at, offset + point);
          at = point;
        }
        assert.deepEqual(backing.subarray(offset, offset + data.length), expected);
        // Bytes around the range are untouched.
        assert.ok(backing.subarray(0, offset).every((byte) => byte === 0xa5));
        assert.ok(backing.subarray(offset + data.length).every((byte) => byte === 0xa5));
        // One call on a fresh copy (whatever its alignment) gives the same bytes.
        const copy = Uint8Array.from(data);
        new Rc4(key, discard).process(copy);
        assert.deepEqual(copy, expected);
      },
    ),
    { numRuns: 300 },
  );
});
