import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { resolveStateDir } from '../../../src/cli/state-dir.js';

describe('resolveStateDir', () => {
  test('--state-dir wins, made absolute', () => {
    assert.equal(resolveStateDir('here/state', { XDG_STATE_HOME: '/x' }), resolve('here/state'));
  });
  test('$XDG_STATE_HOME/lodestone when absolute', () => {
    assert.equal(
      resolveStateDir(undefined, { XDG_STATE_HOME: '/var/xdg', HOME: '/home/u' }),
      '/var/xdg/lodestone',
    );
  });
  test('a relative XDG_STATE_HOME is ignored: ~/.local/state/lodestone', () => {
    assert.equal(
      resolveStateDir(undefined, { XDG_STATE_HOME: 'rel', HOME: '/home/u' }),
      join('/home/u', '.local', 'state', 'lodestone'),
    );
  });
});
