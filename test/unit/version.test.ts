import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { CLIENT_NAME, PEER_ID_PREFIX, peerIdPrefix, USER_AGENT, VERSION } from '../../src/version.js';
import { generatePeerId } from '../../src/wire/index.js';

/** package.json read here independently: dist/test/unit → the package root. */
const packageVersion = (
  JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

describe('version', () => {
  test('comes from package.json, and every name derived from it follows', () => {
    assert.equal(VERSION, packageVersion);
    assert.equal(CLIENT_NAME, `Lodestone ${packageVersion}`);
    assert.equal(USER_AGENT, `Lodestone/${packageVersion}`);
    assert.equal(PEER_ID_PREFIX, peerIdPrefix(packageVersion));
    assert.equal(generatePeerId().subarray(0, 8).toString('latin1'), PEER_ID_PREFIX);
  });

  test('peer-id prefix: Azureus style, one character per version part', () => {
    assert.equal(peerIdPrefix('0.1.0'), '-LS0100-');
    assert.equal(peerIdPrefix('2.0.8'), '-LS2080-');
    assert.equal(peerIdPrefix('1.12.3'), '-LS1C30-');
    assert.equal(peerIdPrefix('1.2.3-beta.4'), '-LS1230-');
    assert.equal(peerIdPrefix('40.0.0'), '-LS0000-');
    for (const version of ['0.1.0', '35.35.35', 'x.y.z', '']) {
      assert.equal(Buffer.byteLength(peerIdPrefix(version), 'latin1'), 8);
    }
  });
});
