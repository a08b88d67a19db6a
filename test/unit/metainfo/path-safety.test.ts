import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { assertSafeComponent, resolveInside, unsafeComponentReason } from '../../../src/metainfo/index.js';

describe('assertSafeComponent', () => {
  const unsafe = [
    '',
    '.',
    '..',
    'a/b',
    '/',
    'a\\b',
    '\0',
    'tab\there',
    'bell\x07',
    'del\x7f',
    'C:',
    'c:\\windows',
    'z:rel',
    'CON',
    'con',
    'Prn.txt',
    'aux.tar.gz',
    'NUL',
    'nul.txt',
    'COM1',
    'com9.log',
    'LPT1',
    'lpt9',
    'COM¹',
    'CON .txt',
    'trailing.',
    'trailing ',
    '...',
  ];
  for (const name of unsafe) {
    test(`rejects ${JSON.stringify(name)}`, () => {
      assert.notEqual(unsafeComponentReason(name), undefined);
      assert.throws(() => assertSafeComponent(name, 'where'), {
        code: 'LODESTONE_ERR_UNSAFE_PATH',
        message: /in where: /,
      });
    });
  }

  const safe = [
    'a',
    '.hidden',
    'a..b',
    'con-test',
    'CONSOLE',
    'com10',
    'com0',
    'lpt',
    'file.txt',
    ' x',
    '☃',
    'ab:c',
  ];
  for (const name of safe) {
    test(`accepts ${JSON.stringify(name)}`, () => {
      assert.equal(unsafeComponentReason(name), undefined);
      assertSafeComponent(name);
    });
  }

  test('long hostile names are shortened in the message', () => {
    assert.throws(
      () => assertSafeComponent(`${'a'.repeat(500)}/`),
      (error: Error) => error.message.length < 200,
    );
  });
});

describe('resolveInside', () => {
  const root = join(tmpdir(), 'lodestone-root');
  test('joins safe components under the root', () => {
    assert.equal(resolveInside(root, ['a', 'b.txt']), resolve(root, 'a', 'b.txt'));
    assert.equal(resolveInside(`${root}/./`, ['a']), resolve(root, 'a'));
  });
  test('refuses anything that would escape or is the root itself', () => {
    for (const components of [['..'], ['a', '..', '..'], ['/etc/passwd'], ['C:'], [], ['']]) {
      assert.throws(() => resolveInside(root, components), { code: 'LODESTONE_ERR_UNSAFE_PATH' });
    }
  });
});
