import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LodestoneError } from '../../../src/errors.js';
import { ClientBandwidth, TorrentBandwidth } from '../../../src/session/bandwidth-limits.js';
import { FakeClock } from '../../helpers/fake-clock.js';

test('setLimits changes only the keys given; undefined or 0 is unlimited', () => {
  const clock = new FakeClock();
  const client = new ClientBandwidth({ download: 1000, upload: 2000 }, clock);
  client.setLimits({ download: 5000 });
  assert.equal(client.download.rate, 5000);
  assert.equal(client.upload.rate, 2000, 'a key left out keeps its value');
  client.setLimits({ upload: undefined });
  assert.equal(client.upload.rate, 0, 'an explicit undefined lifts the limit');
  const torrent = new TorrentBandwidth(client, { download: 300 }, clock);
  torrent.setLimits({ upload: 700 });
  assert.equal(torrent.downloadLimit, 300);
  assert.equal(torrent.uploadLimit, 700);
  assert.equal(torrent.honorsClientLimits, true);
});

test('bad limits are usage errors and change nothing', () => {
  const clock = new FakeClock();
  assert.throws(
    () => new ClientBandwidth({ download: -5 }, clock),
    (error: unknown) => error instanceof LodestoneError && error.code === 'LODESTONE_ERR_USAGE',
  );
  const client = new ClientBandwidth({ download: 1000, upload: 1000 }, clock);
  assert.throws(() => client.setLimits({ download: 2000, upload: Number.NaN }), LodestoneError);
  assert.equal(client.download.rate, 1000, 'nothing changed when one value was refused');
  const torrent = new TorrentBandwidth(client, {}, clock);
  assert.throws(() => torrent.setLimits({ download: Number.POSITIVE_INFINITY }), LodestoneError);
});

test('a torrent pays into the client channels unless it does not honour them', () => {
  const clock = new FakeClock();
  const client = new ClientBandwidth({ download: 1000 }, clock);
  const torrent = new TorrentBandwidth(client, {}, clock);
  const throttles: { download?: { use(n: number): void; delayMs(): number } } = {};
  torrent.attach({
    setThrottles: (t: typeof throttles) => Object.assign(throttles, t),
  } as never);
  throttles.download!.use(5000);
  assert.equal(client.download.delayMs(), 5000, 'the client channel was paid');
  torrent.setLimits({ honorsClientLimits: false });
  assert.equal(throttles.download!.delayMs(), 0, 'exempt: the client debt no longer delays it');
  throttles.download!.use(5000);
  assert.equal(client.download.delayMs(), 5000, 'and it no longer pays into it');
  torrent.setLimits({ honorsClientLimits: true });
  assert.equal(throttles.download!.delayMs(), 5000);
});
