import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  MAX_LINES,
  torrentWarningLines as nameWarningLines,
  printedWarningLines,
} from '../../../src/cli/name-warnings.js';
import type { TorrentFile, TorrentMetadata } from '../../../src/metainfo/types.js';

function file(path: string[], extra: Partial<TorrentFile> = {}): TorrentFile {
  return { path, length: 1, offset: 0, padding: false, ...extra };
}

test('one warning per renamed file and per symlink not created', () => {
  const lines = nameWarningLines({
    files: [
      file(['t', 'ok']),
      file(['t', 'a_b'], { originalPath: ['t', 'a\x1bb'] }),
      file(['t', 'link'], { length: 0, symlink: { target: null, original: ['..', 'x'] } }),
      file(['t', 'in'], { length: 0, symlink: { target: ['t', 'ok'], original: ['ok'] } }),
    ],
  });
  assert.deepEqual(lines, [
    'renamed "t/a\x1bb" to "t/a_b"',
    `symlink "t/link" -> "../x" not created: the target leaves the torrent's folder`,
  ]);
});

test(`past ${MAX_LINES} renamed files the rest are summed up`, () => {
  const files = Array.from({ length: MAX_LINES + 5 }, (_, i) =>
    file(['t', `f${i}`], { originalPath: ['t', `f${i}.`] }),
  );
  const lines = nameWarningLines({ files });
  assert.equal(lines.length, MAX_LINES + 1);
  assert.equal(lines.at(-1), '5 more files renamed (lodestone info lists them all)');
});

test('padding files are never reported', () => {
  assert.deepEqual(
    nameWarningLines({ files: [file(['t', '_'], { padding: true, originalPath: ['t', '..'] })] }),
    [],
  );
});

test("the torrent's warnings come first, escaped when printed", () => {
  const meta: Pick<TorrentMetadata, 'files' | 'warnings'> = {
    files: [file(['t', 'a_b'], { originalPath: ['t', 'a\u009bb'] })],
    warnings: [
      { code: 'LODESTONE_WARN_TRAILING_DATA', message: '3 bytes after the root dictionary' },
      { code: 'LODESTONE_WARN_CREATION_DATE', message: 'odd \x1b]0;title\x07 \u202etxt.exe' },
    ],
  };
  assert.deepEqual(printedWarningLines(meta), [
    'lodestone: warning: 3 bytes after the root dictionary',
    'lodestone: warning: odd \\x1b]0;title\\x07 \\u202etxt.exe',
    'lodestone: warning: renamed "t/a\\x9bb" to "t/a_b"',
  ]);
});
