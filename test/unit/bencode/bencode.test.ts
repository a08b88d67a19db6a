import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type BencodeDict,
  type BencodeValue,
  decode,
  decodePrefix,
  encode,
  getBytes,
  getDict,
  getInt,
  getList,
  getText,
  isDict,
  listItems,
  listLength,
  spanOf,
} from '../../../src/bencode/index.js';
import { BencodeError, LodestoneError } from '../../../src/errors.js';

const bytes = (text: string) => Buffer.from(text, 'latin1');

function assertBencodeError(input: string, offset: number, message: string, options = {}): void {
  assert.throws(
    () => decode(bytes(input), options),
    (error: unknown) => {
      assert.ok(error instanceof BencodeError, String(error));
      assert.equal(error.code, 'LODESTONE_ERR_BENCODE');
      assert.equal(error.offset, offset, error.message);
      assert.ok(error.message.includes(message), `"${error.message}" lacks "${message}"`);
      assert.ok(error.message.endsWith(`at byte ${offset}`));
      return true;
    },
  );
}

describe('decode: values', () => {
  test('integers, strings, lists, dictionaries', () => {
    assert.equal(decode(bytes('i0e')), 0);
    assert.equal(decode(bytes('i-42e')), -42);
    assert.equal(decode(bytes(`i${Number.MAX_SAFE_INTEGER}e`)), Number.MAX_SAFE_INTEGER);
    assert.equal(decode(bytes(`i${Number.MIN_SAFE_INTEGER}e`)), Number.MIN_SAFE_INTEGER);
    assert.deepEqual(decode(bytes('4:spam')), bytes('spam'));
    assert.deepEqual(decode(bytes('0:')), Buffer.alloc(0));
    assert.deepEqual(decode(bytes('li1e3:abclee')), [1, bytes('abc'), []]);
    const dict = decode(bytes('d1:ai1e1:bd1:cleee')) as BencodeDict;
    assert.ok(isDict(dict));
    assert.deepEqual([...dict.keys()], ['a', 'b']);
    assert.deepEqual(dict.get('b'), new Map([['c', []]]));
  });

  test('integers beyond 2^53 are bigints, up to 20 digits, and re-encode to the same bytes', () => {
    const cases: [string, number | bigint][] = [
      ['i9007199254740991e', Number.MAX_SAFE_INTEGER],
      ['i-9007199254740991e', Number.MIN_SAFE_INTEGER],
      ['i1000000000000000e', 1e15],
      ['i9007199254740992e', 2n ** 53n],
      ['i-9007199254740992e', -(2n ** 53n)],
      ['i9007199254740993e', 2n ** 53n + 1n],
      ['i1700000000000000e', 1_700_000_000_000_000],
      ['i9223372036854775807e', 2n ** 63n - 1n],
      ['i18446744073709551615e', 2n ** 64n - 1n],
      ['i99999999999999999999e', 10n ** 20n - 1n],
      ['i-99999999999999999999e', -(10n ** 20n - 1n)],
    ];
    for (const [text, expected] of cases) {
      const value = decode(bytes(text));
      assert.equal(typeof value, typeof expected, text);
      assert.equal(value, expected, text);
      assert.equal(encode(value).toString('latin1'), text);
    }
    // Leading zeros (lenient only) never make a small value a bigint.
    assert.equal(decode(bytes(`i${'0'.repeat(19)}7e`), { lenient: true }), 7);
    const dict = decode(bytes('d3:bigi18446744073709551616e5:smalli1ee')) as BencodeDict;
    assert.equal(dict.get('big'), 2n ** 64n);
    assert.equal(encode(dict).toString('latin1'), 'd3:bigi18446744073709551616e5:smalli1ee');
  });

  test('binary keys survive as latin1 strings', () => {
    const dict = decode(Buffer.from([0x64, 0x31, 0x3a, 0xff, 0x69, 0x31, 0x65, 0x65])) as BencodeDict;
    assert.equal(dict.get('\xff'), 1);
    assert.deepEqual(encode(dict), Buffer.from([0x64, 0x31, 0x3a, 0xff, 0x69, 0x31, 0x65, 0x65]));
  });

  test('strings are views of the input, not copies', () => {
    const input = bytes('3:abc');
    const value = decode(input) as Uint8Array;
    assert.equal(value.buffer, input.buffer);
  });
});

describe('decode: strict errors carry the offset', () => {
  test('integers', () => {
    assertBencodeError('i01e', 1, 'leading zero in integer');
    assertBencodeError('i-01e', 2, 'leading zero in integer');
    assertBencodeError('i-0e', 0, 'negative zero');
    assertBencodeError('i-e', 2, 'empty integer');
    assertBencodeError('ie', 1, 'empty integer');
    assertBencodeError('i12', 3, 'unterminated integer');
    assertBencodeError('i1.5e', 2, 'invalid digit in integer');
    assertBencodeError('i--1e', 2, 'invalid digit in integer');
    assertBencodeError('i123456789012345678901e', 1, 'integer too large');
    assertBencodeError('i-123456789012345678901e', 2, 'integer too large');
    assertBencodeError(`i-${'0'.repeat(20)}e`, 0, 'negative zero', { lenient: true });
  });

  test('strings', () => {
    assertBencodeError('01:a', 0, 'leading zero in string length');
    assertBencodeError('5:abc', 0, 'string of 5 bytes overruns the data');
    assertBencodeError('9999999999999999:a', 0, 'overruns the data');
    assertBencodeError('99999999999999999:a', 0, 'string length too large');
    assertBencodeError('3abc', 1, 'invalid digit in string length');
    assertBencodeError('3', 1, 'unterminated string length');
  });

  test('structure', () => {
    assertBencodeError('', 0, 'unexpected end of data');
    assertBencodeError('x', 0, 'unexpected byte 0x78');
    assertBencodeError('i1ei2e', 3, 'trailing data after value');
    assertBencodeError('li1e', 0, 'unterminated list');
    assertBencodeError('d1:ai1e', 0, 'unterminated dictionary');
    assertBencodeError('d1:a', 4, 'unexpected end of data');
    assertBencodeError('di1ei2ee', 1, 'dictionary key is not a string');
    assertBencodeError('dlei1ee', 1, 'dictionary key is not a string');
  });

  test('unsorted and duplicate keys', () => {
    assertBencodeError('d1:b0:1:a0:e', 6, 'unsorted dictionary key "a"');
    assertBencodeError('d1:a0:1:a0:e', 6, 'duplicate dictionary key "a"');
    assertBencodeError('d2:\x00\x01i1e1:\x00i2ee', 8, 'unsorted dictionary key "?"');
  });

  test('depth limit', () => {
    const deep = (n: number) => `${'l'.repeat(n)}${'e'.repeat(n)}`;
    assert.deepEqual(decode(bytes(deep(64))), decode(bytes(deep(64))));
    assertBencodeError(deep(65), 64, 'nesting deeper than 64');
    assertBencodeError('d1:ad1:ad1:ai1eeee', 8, 'nesting deeper than 2', { maxDepth: 2 });
    assertBencodeError('l'.repeat(100_000), 64, 'nesting deeper than 64');
  });

  test('item limit', () => {
    assert.deepEqual(decode(bytes('li1ei2ee'), { maxItems: 3 }), [1, 2]);
    assertBencodeError('li1ei2ei3ee', 7, 'more than 3 values', { maxItems: 3 });
    assertBencodeError('d1:ai1e1:bi2ee', 10, 'more than 4 values', { maxItems: 4 });
  });
});

describe('decode: lenient mode', () => {
  test('accepts unsorted keys, keeps the first of duplicates, accepts leading zeros', () => {
    const dict = decode(bytes('d1:bi1e1:ai2e1:bi3ee'), { lenient: true }) as BencodeDict;
    assert.equal(dict.get('b'), 1);
    assert.equal(dict.get('a'), 2);
    assert.equal(dict.size, 2);
    assert.equal(decode(bytes('i007e'), { lenient: true }), 7);
    assert.deepEqual(decode(bytes('02:ab'), { lenient: true }), bytes('ab'));
  });

  test('still rejects what is not bencode', () => {
    assertBencodeError('i-0e', 0, 'negative zero', { lenient: true });
    assertBencodeError('5:abc', 0, 'overruns', { lenient: true });
    assertBencodeError('i1ee', 3, 'trailing data', { lenient: true });
  });
});

describe('spanOf and decodePrefix', () => {
  test('spans of nested dictionaries and lists', () => {
    const input = bytes('d4:infod6:lengthi5ee4:listli1eee');
    const root = decode(input) as BencodeDict;
    assert.deepEqual(spanOf(root), { start: 0, end: input.length });
    const info = root.get('info')!;
    const span = spanOf(info)!;
    assert.equal(input.subarray(span.start, span.end).toString('latin1'), 'd6:lengthi5ee');
    const list = spanOf(root.get('list')!)!;
    assert.equal(input.subarray(list.start, list.end).toString('latin1'), 'li1ee');
    assert.equal(spanOf(5), undefined);
    assert.equal(spanOf(bytes('x')), undefined);
    assert.equal(spanOf(new Map()), undefined, 'values not made by the decoder have no span');
  });

  test('spans of an unsorted dictionary decoded leniently', () => {
    const input = bytes('d4:infod1:bi1e1:ai2eee');
    const info = (decode(input, { lenient: true }) as BencodeDict).get('info')!;
    const span = spanOf(info)!;
    assert.equal(input.subarray(span.start, span.end).toString('latin1'), 'd1:bi1e1:ai2ee');
  });

  test('decodePrefix reports where the value ended', () => {
    const input = Buffer.concat([bytes('d8:msg_typei1e5:piecei0ee'), Buffer.from([0, 1, 2, 0x65])]);
    const { value, end } = decodePrefix(input);
    assert.equal(end, input.length - 4);
    assert.equal((value as BencodeDict).get('piece'), 0);
    assert.throws(() => decodePrefix(bytes('d1:a')), BencodeError);
    assert.throws(() => decodePrefix(bytes('')), BencodeError);
  });
});

describe('encode', () => {
  test('canonical output with sorted keys', () => {
    assert.equal(
      encode({ b: 1, a: 'x', c: [1, 'y', new Uint8Array([0x7a])] }).toString(),
      'd1:a1:x1:bi1e1:cli1e1:y1:zee',
    );
    assert.equal(
      encode(
        new Map<string, BencodeValue>([
          ['z', 1],
          ['a', 2],
        ]),
      ).toString(),
      'd1:ai2e1:zi1ee',
    );
    assert.equal(encode({ skip: undefined, keep: 0 }).toString(), 'd4:keepi0ee');
    assert.equal(encode(2n ** 60n).toString(), 'i1152921504606846976e');
    assert.equal(encode(-3).toString(), 'i-3e');
    assert.equal(encode('☃').toString('latin1'), '3:\xe2\x98\x83');
  });

  test('keys sort by raw bytes, not by UTF-16', () => {
    // U+FF61 encodes as EF BD A1, U+1F600 as F0 9F 98 80: byte order puts U+FF61 first,
    // while UTF-16 code units (0xFF61 > 0xD83D) would put the emoji first.
    const out = encode({ '😀': 1, '｡': 2 });
    const decoded = decode(out) as BencodeDict;
    assert.deepEqual([...decoded.values()], [2, 1]);
  });

  test('refuses what it cannot encode', () => {
    assert.throws(() => encode(1.5), LodestoneError);
    assert.throws(() => encode(Number.NaN), /non-integer/);
    assert.throws(() => encode(2 ** 60), /non-integer/);
    let deep: BencodeValue = [];
    for (let i = 0; i < 300; i++) deep = [deep];
    assert.throws(() => encode(deep), /nested too deeply/);
  });

  test('decode(encode(x)) round-trips canonical input byte for byte', () => {
    const input = bytes('d1:ad1:bli1ei-1e0:ee1:c3:xyze');
    assert.deepEqual(encode(decode(input)), input);
  });
});

describe('typed readers', () => {
  const dict = decode(bytes('d1:bd1:xi1ee1:ii7e1:lle1:s2:hi1:u2:\xc3\xbce')) as BencodeDict;
  test('read the right type and treat a wrong type as absent', () => {
    assert.equal(getInt(dict, 'i'), 7);
    assert.equal(getInt(dict, 's'), undefined);
    assert.equal(getInt(decode(bytes('d1:ii9007199254740992ee')) as BencodeDict, 'i'), undefined);
    assert.deepEqual(getBytes(dict, 's'), bytes('hi'));
    assert.equal(getBytes(dict, 'i'), undefined);
    assert.deepEqual(getList(dict, 'l'), []);
    assert.equal(getList(dict, 'b'), undefined);
    assert.ok(getDict(dict, 'b') instanceof Map);
    assert.equal(getDict(dict, 'l'), undefined);
    assert.equal(getText(dict, 'u'), 'ü');
    assert.equal(getText(dict, 'missing'), undefined);
  });
});

describe('deferList and spanDepth (large file lists)', () => {
  const deferFiles = (key: string, depth: number) => key === 'files' && depth === 2;

  test('a deferred list decodes as an empty array whose items come one by one', () => {
    const input = bytes('d4:infod5:filesld6:lengthi1e4:pathl1:aeed6:lengthi2e4:pathl1:beee4:name1:xee');
    const info = (decode(input, { deferList: deferFiles }) as BencodeDict).get('info') as BencodeDict;
    const files = info.get('files') as BencodeValue[];
    assert.equal(files.length, 0, 'nothing built');
    assert.equal(listLength(files), 2);
    const items = [...listItems(files)] as BencodeDict[];
    assert.deepEqual(
      items.map((item) => item.get('length')),
      [1, 2],
    );
    assert.deepEqual(getText(info, 'name'), 'x');
    // A list that is not deferred is its own items.
    const plain = decode(bytes('li1ei2ee')) as BencodeValue[];
    assert.deepEqual([...listItems(plain)], [1, 2]);
    assert.equal(listLength(plain), 2);
  });

  test('a deferred list is checked as strictly as a decoded one', () => {
    const bad: [string, number, string][] = [
      ['d4:infod5:filesld1:ai1e1:ai2eeeee', 23, 'duplicate dictionary key "a"'],
      ['d4:infod5:filesld1:bi1e1:ai2eeeee', 23, 'unsorted dictionary key "a"'],
      ['d4:infod5:filesli01eeee', 17, 'leading zero'],
      ['d4:infod5:filesl9:abceee', 16, 'overruns'],
      ['d4:infod5:filesl', 15, 'unterminated list'],
      ['d4:infod5:filesldi1ei2eeeee', 17, 'dictionary key is not a string'],
    ];
    for (const [input, offset, message] of bad) {
      assertBencodeError(input, offset, message);
      assertBencodeError(input, offset, message, { deferList: deferFiles });
    }
    assertBencodeError('d4:infod5:fileslllleeeeee', 17, 'nesting deeper than 4', { maxDepth: 4 });
    assertBencodeError('d4:infod5:fileslllleeeeee', 17, 'nesting deeper than 4', {
      maxDepth: 4,
      deferList: deferFiles,
    });
    // Lenient: the first of two equal keys wins, in the deferred items too.
    const lenient = decode(bytes('d4:infod5:filesld1:ai1e1:ai2eeeee'), {
      lenient: true,
      deferList: deferFiles,
    });
    const files = ((lenient as BencodeDict).get('info') as BencodeDict).get('files') as BencodeValue[];
    assert.equal(([...listItems(files)][0] as BencodeDict).get('a'), 1);
  });

  test('spanDepth: spans only down to the given depth', () => {
    const input = bytes('d4:infod4:listli1eeee');
    const root = decode(input, { spanDepth: 2 }) as BencodeDict;
    const info = root.get('info') as BencodeDict;
    assert.deepEqual(spanOf(root), { start: 0, end: input.length });
    assert.ok(spanOf(info));
    assert.equal(spanOf(info.get('list')!), undefined);
  });
});
