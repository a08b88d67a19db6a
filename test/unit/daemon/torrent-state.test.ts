import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  decodeStats,
  decodeTorrentState,
  defaultTorrentSettings,
  encodeTorrentState,
  type TorrentState,
} from '../../../src/daemon/torrent-state.js';
import { DaemonError } from '../../../src/errors.js';

const STATE: TorrentState = {
  hash: 'ab'.repeat(20),
  name: 'x',
  magnet: `magnet:?xt=urn:btih:${'ab'.repeat(20)}`,
  savePath: '/d',
  paused: true,
  addedDate: 1_700_000_000_000,
  doneDate: 0,
  activityDate: 5,
  uploadedEver: 10,
  downloadedEver: 20,
  corruptEver: 1,
  settings: { ...defaultTorrentSettings(50), downloadLimit: 100, labels: ['a', 'b'] },
  filesWanted: [true, false],
  filePriorities: ['high', 'low'],
  queuePosition: 3,
  trackerList: [['http://t/a'], ['udp://u:1']],
  error: { kind: 'local', message: 'disk full' },
};

function stateError(error: unknown): boolean {
  return error instanceof DaemonError && error.code === 'LODESTONE_ERR_DAEMON_STATE';
}

describe('the torrent state codec', { timeout: 30_000 }, () => {
  test('round-trips every field, undefined ones included', () => {
    assert.deepEqual(decodeTorrentState(encodeTorrentState(STATE)), STATE);
    const bare: TorrentState = {
      ...STATE,
      magnet: undefined,
      filesWanted: undefined,
      filePriorities: undefined,
      trackerList: undefined,
      error: undefined,
      settings: defaultTorrentSettings(5),
    };
    assert.deepEqual(decodeTorrentState(encodeTorrentState(bare)), bare);
  });

  test('a wrong field is a LODESTONE_ERR_DAEMON_STATE naming it', () => {
    const good = JSON.parse(encodeTorrentState(STATE)) as Record<string, unknown>;
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...good, version: 2 }, /version/],
      [{ ...good, hash: 'AB'.repeat(20) }, /hash/],
      [{ ...good, paused: 'no' }, /paused/],
      [{ ...good, uploadedEver: -1 }, /uploadedEver/],
      [{ ...good, filePriorities: ['urgent'] }, /filePriorities\[0\]/],
      [{ ...good, settings: { ...(good.settings as object), seedRatioMode: 'x' } }, /seedRatioMode/],
      [{ ...good, error: { kind: 'x', message: '' } }, /error.kind/],
      [{ ...good, stoppedByIdle: 'yes' }, /stoppedByIdle/],
      [{ ...good, filePaths: [['a'], 'b'] }, /filePaths\[1\]/],
    ];
    for (const [value, pattern] of cases)
      assert.throws(
        () => decodeTorrentState(JSON.stringify(value)),
        (e: unknown) => stateError(e) && pattern.test((e as Error).message),
      );
    assert.throws(() => decodeTorrentState('{'), stateError);
  });

  test('property: any text or JSON never throws anything but a DaemonError', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json(),
          fc.jsonValue().map((v) => JSON.stringify(v)),
        ),
        (text) => {
          for (const decode of [decodeTorrentState, decodeStats]) {
            try {
              decode(text);
            } catch (error) {
              assert.ok(stateError(error), String(error));
            }
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  test('property: a valid state with any one field (or setting) replaced by any JSON decodes or throws a DaemonError', () => {
    const good = JSON.parse(encodeTorrentState(STATE)) as Record<string, unknown>;
    const fields = Object.keys(good);
    const settingKeys = Object.keys(good.settings as object);
    fc.assert(
      fc.property(
        fc.constantFrom(...fields, ...settingKeys.map((key) => `settings.${key}`)),
        fc.jsonValue(),
        (field, value) => {
          const copy = JSON.parse(JSON.stringify(good)) as Record<string, Record<string, unknown>>;
          if (field.startsWith('settings.')) copy.settings![field.slice(9)] = value as never;
          else copy[field] = value as never;
          try {
            decodeTorrentState(JSON.stringify(copy));
          } catch (error) {
            assert.ok(stateError(error), `${field}=${JSON.stringify(value)}: ${String(error)}`);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  test('stats.json', () => {
    const stats = { uploadedBytes: 1, downloadedBytes: 2, filesAdded: 3, sessionCount: 4, secondsActive: 5 };
    assert.deepEqual(decodeStats(JSON.stringify(stats)), stats);
    assert.throws(() => decodeStats(JSON.stringify({ ...stats, sessionCount: 'x' })), stateError);
  });
});
