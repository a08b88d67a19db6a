/**
 * `open-file-limit` (a Lodestone setting, Transmission 2.x's key): the bound of the process-wide
 * handle pool follows it at start and live on `session-set`; a value under 8 is refused.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isLodestoneError } from '../../src/errors.js';
import { defaultMaxOpenFiles, sharedHandleBudget } from '../../src/storage/handle-budget.js';
import { daemonFixture } from '../helpers/daemon-fixture.js';

describe('open-file-limit', { timeout: 30_000 }, () => {
  test('applied at start and live; out of range refused', async (t) => {
    t.after(() => sharedHandleBudget().setLimit(defaultMaxOpenFiles()));
    const fx = await daemonFixture(t, '127.0.0.72');
    const daemon = await fx.open({
      overrides: {
        'download-dir': fx.downloadDir,
        'peer-port': 0,
        'bind-address-ipv4': '127.0.0.72',
        'dht-enabled': false,
        'open-file-limit': 24,
      },
    });
    assert.equal(sharedHandleBudget().limit, 24);
    assert.equal(daemon.settings()['open-file-limit'], 24);
    const update = await daemon.updateSettings({ 'open-file-limit': 64 });
    assert.deepEqual(update.applied, ['open-file-limit']);
    assert.equal(sharedHandleBudget().limit, 64);
    await assert.rejects(
      daemon.updateSettings({ 'open-file-limit': 4 }),
      (error: unknown) => isLodestoneError(error) && error.code === 'LODESTONE_ERR_DAEMON_SETTINGS',
    );
    assert.equal(sharedHandleBudget().limit, 64);
  });
});
