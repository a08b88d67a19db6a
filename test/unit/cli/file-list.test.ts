/** `--files` / `--skip` lists: indexes and ranges, checked against the torrent's file count. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileChoicesFrom, parseFileList } from '../../../src/cli/file-list.js';

test('indexes and ranges', () => {
  assert.deepEqual([...parseFileList('0,2,5-7', 8, '--files')], [0, 2, 5, 6, 7]);
  assert.deepEqual([...parseFileList(' 3 , 1-1,3', 4, '--files')], [3, 1]);
});

test('bad lists are usage errors naming the flag', () => {
  for (const text of ['', '8', '0,', 'a', '2-1', '-1', '1-', '1.5', '0x1', '1-2-3']) {
    assert.throws(
      () => parseFileList(text, 8, '--skip'),
      (error: Error & { code?: string }) =>
        error.code === 'LODESTONE_ERR_USAGE' && /--skip/.test(error.message),
      text,
    );
  }
});

test('--files keeps the listed files, --skip the others; not both', () => {
  const wanted = (choices: { wanted: boolean }[] | undefined) =>
    choices?.map((c) => (c.wanted ? 1 : 0)).join('');
  assert.equal(wanted(fileChoicesFrom({ files: '1,3' }, 4)), '0101');
  assert.equal(wanted(fileChoicesFrom({ skip: '1,3' }, 4)), '1010');
  assert.equal(fileChoicesFrom({}, 4), undefined);
  assert.throws(() => fileChoicesFrom({ files: '1', skip: '2' }, 4), { code: 'LODESTONE_ERR_USAGE' });
});
