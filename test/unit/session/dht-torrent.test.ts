import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { PeerAddress } from '../../../src/address.js';
import { decodeDhtState, encodeDhtState, MAX_STATE_BYTES } from '../../../src/dht/state.js';
import { dhtStateFile } from '../../../src/session/dht-state-file.js';
import {
  DHT_DOWNLOAD_INTERVAL_MS,
  DHT_RETRY_MS,
  DHT_SEED_INTERVAL_MS,
  DhtTorrentRounds,
} from '../../../src/session/dht-torrent.js';
import { FakeClock } from '../../helpers/fake-clock.js';

const HASH = new Uint8Array(20).fill(7);
const flush = () => new Promise((resolve) => setImmediate(resolve));

function harness(options: { peers?: PeerAddress[]; seeding?: boolean; announcePort?: number } = {}) {
  const clock = new FakeClock();
  const rounds: { at: number; port: number }[] = [];
  const learned: PeerAddress[] = [];
  const state = { wants: true, seeding: options.seeding ?? false };
  const runner = new DhtTorrentRounds(
    clock,
    async (_hash, port, onPeers) => {
      rounds.push({ at: clock.now(), port });
      if (options.peers) onPeers(options.peers);
      return options.peers?.length ?? 0;
    },
    HASH,
    {
      announcePort: options.announcePort ?? 0,
      wantsPeers: () => state.wants,
      seeding: () => state.seeding,
      onPeers: (peers) => learned.push(...peers),
    },
  );
  return { clock, rounds, learned, state, runner };
}

describe('DhtTorrentRounds (a torrent’s DHT schedule)', { timeout: 10_000 }, () => {
  test('a round at start, then every 5 min while downloading and finding peers', async () => {
    const h = harness({ peers: [{ host: '127.0.0.2', port: 6881 }], announcePort: 51413 });
    h.runner.start();
    await flush();
    assert.equal(h.rounds.length, 1);
    assert.equal(h.rounds[0]!.port, 51413, 'announces with our listen port');
    assert.equal(h.learned.length, 1);
    h.clock.advance(DHT_DOWNLOAD_INTERVAL_MS - 1);
    await flush();
    assert.equal(h.rounds.length, 1);
    h.clock.advance(1);
    await flush();
    assert.equal(h.rounds.length, 2);
  });

  test('a round that found nobody is retried after a minute; seeding rounds are 15 min apart', async () => {
    const empty = harness();
    empty.runner.start();
    await flush();
    empty.clock.advance(DHT_RETRY_MS);
    await flush();
    assert.equal(empty.rounds.length, 2);
    const seed = harness({ seeding: true });
    seed.runner.start();
    await flush();
    seed.clock.advance(DHT_SEED_INTERVAL_MS - 1);
    await flush();
    assert.equal(seed.rounds.length, 1);
    seed.clock.advance(1);
    await flush();
    assert.equal(seed.rounds.length, 2);
  });

  test('again (bootstrap ended): a round now if the last found nobody, none if it found peers', async () => {
    const empty = harness();
    empty.runner.start();
    await flush();
    empty.runner.again();
    await flush();
    assert.equal(empty.rounds.length, 2, 'the early round on a thin table found nobody: again at once');
    assert.equal(empty.rounds[1]!.at, empty.rounds[0]!.at, 'no wait');
    empty.clock.advance(DHT_RETRY_MS - 1);
    await flush();
    assert.equal(empty.rounds.length, 2, 'the earlier retry timer was replaced, not doubled');
    empty.clock.advance(1);
    await flush();
    assert.equal(empty.rounds.length, 3);
    const found = harness({ peers: [{ host: '127.0.0.2', port: 6881 }] });
    found.runner.start();
    await flush();
    found.runner.again();
    await flush();
    assert.equal(found.rounds.length, 1, 'peers found: the 5-minute schedule stands');
  });

  test('again(evenIfFound): a first round on a thin table that found peers runs again (once) when bootstrap ends', async () => {
    const found = harness({ peers: [{ host: '127.0.0.2', port: 6881 }] });
    found.runner.start();
    await flush();
    found.runner.again(true);
    await flush();
    assert.equal(
      found.rounds.length,
      2,
      'what one node knew is no answer: the lookup runs on the grown table',
    );
    found.clock.advance(DHT_DOWNLOAD_INTERVAL_MS - 1);
    await flush();
    assert.equal(found.rounds.length, 2, 'then the 5-minute schedule');
    // The same while the first round still runs: it is followed at once though it found peers.
    const clock = new FakeClock();
    let release: (() => void) | undefined;
    let count = 0;
    const runner = new DhtTorrentRounds(
      clock,
      (_hash, _port, onPeers) => {
        count++;
        return new Promise<number>((resolve) => {
          release = () => {
            onPeers([{ host: '127.0.0.2', port: 6881 }]);
            resolve(1);
          };
        });
      },
      HASH,
      { announcePort: 0, wantsPeers: () => true, onPeers: () => {} },
    );
    runner.start();
    runner.again(true);
    release!();
    await flush();
    assert.equal(count, 2);
    release!();
    await flush();
    assert.equal(count, 2, 'only once');
  });

  test('again while a round runs: another when it ends empty; stopped: nothing', async () => {
    const clock = new FakeClock();
    let release: (() => void) | undefined;
    let count = 0;
    const runner = new DhtTorrentRounds(
      clock,
      () => {
        count++;
        return new Promise<number>((resolve) => {
          release = () => resolve(0);
        });
      },
      HASH,
      { announcePort: 0, wantsPeers: () => true, onPeers: () => {} },
    );
    runner.start();
    runner.again();
    assert.equal(count, 1, 'not two lookups at once');
    release!();
    await flush();
    assert.equal(count, 2, 'the empty round is followed at once');
    runner.stop();
    release!();
    runner.again();
    await flush();
    assert.equal(count, 2);
  });

  test('no round once the torrent wants no peers, nor after stop', async () => {
    const h = harness();
    h.runner.start();
    await flush();
    h.state.wants = false;
    h.clock.advance(DHT_RETRY_MS);
    await flush();
    assert.equal(h.rounds.length, 1);
    const s = harness();
    s.runner.start();
    await flush();
    s.runner.stop();
    s.clock.advance(DHT_SEED_INTERVAL_MS);
    await flush();
    assert.equal(s.rounds.length, 1);
  });
});

describe('dhtStateFile', { timeout: 10_000 }, () => {
  test('saves atomically and loads; a missing file is undefined; an oversized one is refused as corrupt', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lodestone-dht-state-'));
    try {
      const file = dhtStateFile(join(dir, 'sub', 'dht.dat'));
      assert.equal(await file.load(), undefined);
      const bytes = encodeDhtState({
        id: new Uint8Array(20).fill(1),
        nodes: [{ id: new Uint8Array(20).fill(2), host: '127.0.0.9', port: 6881 }],
        savedAt: 5,
      });
      await file.save(bytes);
      assert.deepEqual(decodeDhtState((await file.load())!).nodes[0]!.host, '127.0.0.9');
      assert.deepEqual(await readdir(join(dir, 'sub')), ['dht.dat'], 'no temp file left');
      await writeFile(join(dir, 'sub', 'dht.dat'), Buffer.alloc(10 * 1024 * 1024, 0x64));
      const big = await file.load();
      assert.ok(big!.length <= MAX_STATE_BYTES + 1, 'a huge file is not read whole');
      assert.throws(() => decodeDhtState(big!), { code: 'LODESTONE_ERR_DHT_STATE' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
