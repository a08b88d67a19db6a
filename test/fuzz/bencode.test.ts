import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  type BencodeValue,
  type DecodeOptions,
  decode,
  decodePrefix,
  encode,
  listItems,
  listLength,
} from '../../src/bencode/index.js';
import { BencodeError } from '../../src/errors.js';

const numRuns = Number(process.env.FUZZ_RUNS ?? 1000);

const { value: bencodeValue } = fc.letrec<{ value: BencodeValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', maxDepth: 6 },
    fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
    // Beyond 2^53 the decoder yields bigints, up to 20 digits.
    fc.bigInt({ min: 2n ** 53n, max: 10n ** 20n - 1n }),
    fc.bigInt({ min: -(10n ** 20n - 1n), max: -(2n ** 53n) }),
    fc.uint8Array({ maxLength: 24 }),
    fc.array(tie('value'), { maxLength: 6 }),
    fc
      .array(fc.tuple(fc.uint8Array({ maxLength: 6 }), tie('value')), { maxLength: 6 })
      .map((entries) => new Map(entries.map(([key, item]) => [Buffer.from(key).toString('latin1'), item]))),
  ),
}));

/** A comparable form: byte strings as hex, dictionaries as key-sorted entry lists. */
function canonical(value: BencodeValue): unknown {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return { bigint: value.toString() };
  if (value instanceof Uint8Array) return { bytes: Buffer.from(value).toString('hex') };
  if (Array.isArray(value)) return value.map(canonical);
  return [...value.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, item]) => [key, canonical(item)]);
}

/** Runs `fn`; anything thrown must be a BencodeError. */
function onlyBencodeErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof BencodeError)) throw error;
    assert.ok(Number.isInteger(error.offset) && error.offset >= 0);
  }
}

test('decode(encode(v)) equals v, and re-encoding is byte-identical', () => {
  fc.assert(
    fc.property(bencodeValue, (value) => {
      const encoded = encode(value);
      const decoded = decode(encoded);
      assert.deepEqual(canonical(decoded), canonical(value));
      assert.deepEqual(encode(decoded), encoded);
    }),
    { numRuns },
  );
});

test('integers of 1 to 20 digits decode exactly: a number when safe, a bigint beyond', () => {
  fc.assert(
    fc.property(fc.bigInt({ min: -(10n ** 20n - 1n), max: 10n ** 20n - 1n }), (big) => {
      const text = `i${big}e`;
      const value = decode(Buffer.from(text));
      const safe = big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER);
      assert.equal(typeof value, safe ? 'number' : 'bigint');
      assert.equal(BigInt(value as number | bigint), big);
      assert.equal(encode(value).toString(), text);
    }),
    { numRuns },
  );
});

test('decodePrefix finds the end of a value followed by arbitrary bytes', () => {
  fc.assert(
    fc.property(bencodeValue, fc.uint8Array({ maxLength: 32 }), (value, tail) => {
      const encoded = encode(value);
      const { value: decoded, end } = decodePrefix(Buffer.concat([encoded, tail]));
      assert.equal(end, encoded.length);
      assert.deepEqual(canonical(decoded), canonical(value));
    }),
    { numRuns },
  );
});

test('arbitrary bytes decode to a value or a BencodeError, in both modes', () => {
  const alphabet = fc.oneof(
    fc.uint8Array({ maxLength: 64 }),
    // Mostly bencode punctuation, so the decoder gets deep into its states.
    fc
      .array(fc.constantFrom(...'ilde0123456789:-'.split('').map((c) => c.charCodeAt(0))), { maxLength: 64 })
      .map((codes) => Uint8Array.from(codes)),
  );
  fc.assert(
    fc.property(alphabet, (bytes) => {
      onlyBencodeErrors(() => decode(bytes));
      onlyBencodeErrors(() => decode(bytes, { lenient: true }));
      onlyBencodeErrors(() => decodePrefix(bytes, { maxDepth: 3, maxItems: 10 }));
    }),
    { numRuns },
  );
});

test('mutated encodings decode to a value or a BencodeError', () => {
  fc.assert(
    fc.property(
      bencodeValue,
      fc.array(
        fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'insert', 'delete')),
        {
          minLength: 1,
          maxLength: 4,
        },
      ),
      (value, mutations) => {
        const bytes = [...encode(value)];
        for (const [position, byte, kind] of mutations) {
          const at = bytes.length === 0 ? 0 : position % bytes.length;
          if (kind === 'set') bytes[at] = byte;
          else if (kind === 'insert') bytes.splice(at, 0, byte);
          else bytes.splice(at, 1);
        }
        onlyBencodeErrors(() => decode(Uint8Array.from(bytes)));
        onlyBencodeErrors(() => decode(Uint8Array.from(bytes), { lenient: true }));
      },
    ),
    { numRuns },
  );
});

/** `value` with every deferred list expanded through listItems (recursively), checking listLength. */
function expanded(value: BencodeValue): BencodeValue {
  if (Array.isArray(value)) {
    const items = [...listItems(value)].map(expanded);
    assert.equal(listLength(value), items.length);
    return items;
  }
  if (value instanceof Map) return new Map([...value].map(([key, item]) => [key, expanded(item)]));
  return value;
}

/** The decoded value, or the error's message and offset. */
function outcome(bytes: Uint8Array, options: DecodeOptions): unknown {
  try {
    return { value: canonical(expanded(decode(bytes, options))) };
  } catch (error) {
    if (!(error instanceof BencodeError)) throw error;
    return { error: error.message, offset: error.offset };
  }
}

test('deferList: deferred lists decode to the same items, and bad input fails the same way', () => {
  const deferAll: DecodeOptions['deferList'] = () => true;
  const mutated = bencodeValue.chain((value) => {
    const encoded = encode(value);
    return fc.tuple(
      fc.constant(encoded),
      fc.nat({ max: Math.max(0, encoded.length - 1) }),
      fc.integer({ min: 0, max: 255 }),
      fc.boolean(),
    );
  });
  fc.assert(
    fc.property(
      mutated,
      fc.boolean(),
      fc.integer({ min: 2, max: 8 }),
      ([encoded, at, byte, flip], lenient, maxDepth) => {
        const bytes = Buffer.from(encoded);
        if (flip && bytes.length > 0) bytes[at] = byte;
        for (const options of [
          { lenient, maxDepth },
          { lenient, maxDepth, maxItems: 12 },
        ]) {
          assert.deepEqual(outcome(bytes, { ...options, deferList: deferAll }), outcome(bytes, options));
        }
      },
    ),
    { numRuns },
  );
});
