import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { verifyRpcPassword } from '../../../src/daemon/rpc-password.js';
import {
  changedKeys,
  defaultSettings,
  SETTING_KINDS,
  validateSettingsPatch,
} from '../../../src/daemon/settings.js';
import { loadSettingsFile, saveSettingsFile, settingsFileText } from '../../../src/daemon/settings-file.js';
import { DaemonError } from '../../../src/errors.js';

function settingsError(pattern: RegExp): (error: unknown) => boolean {
  return (error) =>
    error instanceof DaemonError &&
    error.code === 'LODESTONE_ERR_DAEMON_SETTINGS' &&
    pattern.test(error.message);
}

describe('daemon settings', { timeout: 30_000 }, () => {
  test('every key has a default, and the defaults pass the validator', () => {
    const defaults = defaultSettings('/home/u');
    assert.deepEqual(Object.keys(defaults).sort(), Object.keys(SETTING_KINDS).sort());
    assert.deepEqual(validateSettingsPatch(defaults).known, defaults);
    assert.equal(defaults['download-dir'], '/home/u/Downloads');
    assert.equal(defaults['peer-port'], 51413);
    assert.equal(defaults['rpc-port'], 9091);
    assert.equal(defaults['rpc-bind-address'], '127.0.0.1');
    assert.equal(defaults['rpc-whitelist'], '127.0.0.1,::1');
    assert.equal(defaults['lpd-enabled'], false);
  });

  test('a bad value names the key and what it must be', () => {
    assert.throws(
      () => validateSettingsPatch({ 'peer-port': 70000 }),
      settingsError(/^peer-port must be a whole number from 0 to 65535, not 70000/),
    );
    assert.throws(() => validateSettingsPatch({ 'peer-port': 1.5 }), settingsError(/peer-port/));
    assert.throws(
      () => validateSettingsPatch({ encryption: 3 }),
      settingsError(/encryption must be a whole number from 0 to 2/),
    );
    assert.throws(
      () => validateSettingsPatch({ 'dht-enabled': 'yes' }),
      settingsError(/dht-enabled must be true or false, not "yes"/),
    );
    assert.throws(
      () => validateSettingsPatch({ 'download-dir': '' }),
      settingsError(/download-dir must be a non-empty string/),
    );
    assert.throws(() => validateSettingsPatch({ 'ratio-limit': Number.NaN }), settingsError(/ratio-limit/));
    assert.throws(() => validateSettingsPatch({ 'alt-speed-time-begin': 1440 }), settingsError(/0 to 1439/));
    assert.throws(() => validateSettingsPatch([1]), settingsError(/must be a JSON object/));
    assert.throws(() => validateSettingsPatch(null), settingsError(/must be a JSON object/));
  });

  test('unknown keys come back untouched, beside the checked known ones', () => {
    const result = validateSettingsPatch({ 'peer-port': 6000, 'a-future-key': { x: 1 } });
    assert.deepEqual(result.known, { 'peer-port': 6000 });
    assert.deepEqual(result.unknown, { 'a-future-key': { x: 1 } });
    const proto = validateSettingsPatch(JSON.parse('{"__proto__": {"polluted": 1}}'));
    assert.deepEqual(Object.keys(proto.unknown), ['__proto__'], 'a __proto__ key is kept as a key');
    assert.equal(Object.getPrototypeOf(proto.unknown), Object.prototype);
  });

  test('property: garbage never throws anything but a DaemonError', () => {
    const keys = fc.constantFrom(...Object.keys(SETTING_KINDS), '__proto__', 'constructor', 'other');
    fc.assert(
      fc.property(
        fc.oneof(
          fc.anything({ withBigInt: true, withMap: true, withSet: true, withBoxedValues: true }),
          fc.dictionary(
            keys,
            fc.anything({ withBigInt: true, withBoxedValues: true, withNullPrototype: true }),
          ),
        ),
        (value) => {
          try {
            validateSettingsPatch(value);
          } catch (error) {
            assert.ok(error instanceof DaemonError, String(error));
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  test('changedKeys lists only what differs', () => {
    const a = defaultSettings('/h');
    assert.deepEqual(changedKeys(a, { ...a, 'peer-port': 1, encryption: 2 }), ['peer-port', 'encryption']);
  });

  test('the file: missing is the defaults; saved with the password hashed and unknown keys kept; bad JSON is one error', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'lodestone-settings-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const path = join(dir, 'settings.json');
    const missing = await loadSettingsFile(path, '/h');
    assert.equal(missing.existed, false);
    assert.deepEqual(missing.settings, defaultSettings('/h'));

    const saved = await saveSettingsFile(
      path,
      { ...missing.settings, 'rpc-password': 'hunter2' },
      { 'x-key': [1] },
    );
    assert.notEqual(saved['rpc-password'], 'hunter2');
    assert.ok(verifyRpcPassword(saved['rpc-password'], 'hunter2'));
    const text = await readFile(path, 'utf8');
    assert.doesNotMatch(text, /hunter2/);
    const again = await loadSettingsFile(path, '/h');
    assert.deepEqual(again.unknown, { 'x-key': [1] });
    assert.equal(again.settings['rpc-password'], saved['rpc-password']);
    // An already hashed password is kept as it is.
    assert.equal(settingsFileText(again.settings, {}), settingsFileText(again.settings, {}));
    assert.match(
      settingsFileText(again.settings, {}),
      new RegExp(saved['rpc-password'].replace(/[{.]/g, '\\$&')),
    );

    await writeFile(path, '{ "peer-port": ');
    await assert.rejects(loadSettingsFile(path, '/h'), settingsError(/is not valid JSON/));
    await writeFile(path, '{ "peer-port": -1 }');
    await assert.rejects(loadSettingsFile(path, '/h'), settingsError(/peer-port must be/));
  });
});
