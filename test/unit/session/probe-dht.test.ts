/**
 * The DHT as a doctor source, without sockets: a fake DHT (bootstrap, routing table size, one
 * lookup) and a fake clock for the probe's time bound.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PeerAddress } from '../../../src/address.js';
import { encode } from '../../../src/bencode/index.js';
import { LodestoneError } from '../../../src/errors.js';
import { parseTorrent } from '../../../src/metainfo/index.js';
import { parseMagnet } from '../../../src/metainfo/magnet.js';
import { runDiscoveryProbe } from '../../../src/session/discovery-probe.js';
import type { DoctorSource } from '../../../src/session/doctor-report.js';
import { type ProbeDht, type ProbeDhtLookup, probeDht } from '../../../src/session/probe-dht.js';
import { FakeClock } from '../../helpers/fake-clock.js';

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));
const HASH = 'cd'.repeat(20);

/** A DHT whose bootstrap ends when `ready` is called (or at once), with `nodes` in its table. */
class FakeDht implements ProbeDht {
  bootstrapContacts = 2;
  nodes = 0;
  lookups = 0;
  #ready = false;
  #waiters: (() => void)[] = [];
  constructor(
    readonly lookup: (
      onPeers: (peers: PeerAddress[]) => void,
      signal?: AbortSignal,
    ) => Promise<ProbeDhtLookup>,
    ready = true,
  ) {
    this.#ready = ready;
  }
  ready(): void {
    this.#ready = true;
    for (const waiter of this.#waiters.splice(0)) waiter();
  }
  whenReady(signal?: AbortSignal): Promise<boolean> {
    if (this.#ready) return Promise.resolve(true);
    return new Promise((resolve) => {
      this.#waiters.push(() => resolve(true));
      signal?.addEventListener('abort', () => resolve(false), { once: true });
    });
  }
  getPeers(
    _infoHash: Uint8Array,
    onPeers: (peers: PeerAddress[]) => void,
    signal?: AbortSignal,
  ): Promise<ProbeDhtLookup | undefined> {
    this.lookups++;
    return this.lookup(onPeers, signal);
  }
  stats(): { nodes: number } {
    return { nodes: this.nodes };
  }
}

const neverLooks = (): Promise<ProbeDhtLookup> => assert.fail('no lookup expected');

function source(): DoctorSource {
  return { kind: 'dht', label: 'DHT', status: 'no-answer', peers: 0 };
}

function magnetProbe(dht: ProbeDht, clock: FakeClock, timeMs = 30_000) {
  return runDiscoveryProbe({
    target: { kind: 'magnet', link: parseMagnet(`magnet:?xt=urn:btih:${HASH}`) },
    peerId: Buffer.alloc(20, 1),
    port: 0,
    timeMs,
    dht,
    clock,
  });
}

describe('the DHT in a discovery probe', { timeout: 10_000 }, () => {
  test('a bootstrap that reached no node: failed, says how many contacts were tried, no lookup, ends at once', async () => {
    const clock = new FakeClock();
    const dht = new FakeDht(neverLooks);
    const report = await magnetProbe(dht, clock);
    const found = report.sources.find((s) => s.kind === 'dht');
    assert.deepEqual(found, {
      kind: 'dht',
      label: 'DHT',
      status: 'failed',
      peers: 0,
      nodesKnown: 0,
      error: 'no node answered the bootstrap (2 contacts tried)',
    });
    assert.equal(dht.lookups, 0);
    assert.equal(report.durationMs, 0, 'nothing else to wait for');
  });

  test('a bootstrap still running at the time bound: no-answer, and the probe ends at the bound', async () => {
    const clock = new FakeClock();
    const dht = new FakeDht(neverLooks, false);
    const probe = magnetProbe(dht, clock, 5000);
    await flush();
    clock.advance(5000);
    const report = await probe;
    assert.equal(report.durationMs, 5000);
    const found = report.sources.find((s) => s.kind === 'dht');
    assert.equal(found?.status, 'no-answer');
    assert.equal(found?.error, 'the DHT bootstrap did not finish in time (2 contacts asked)');
  });

  test('a lookup with 0 peers: answered, with nodes reached, queries and rounds', async () => {
    const clock = new FakeClock();
    const dht = new FakeDht(async () => ({ peers: [], rounds: 3, queries: 12, responses: 7 }));
    dht.nodes = 9;
    const report = await magnetProbe(dht, clock);
    assert.deepEqual(
      report.sources.find((s) => s.kind === 'dht'),
      {
        kind: 'dht',
        label: 'DHT',
        status: 'answered',
        peers: 0,
        nodesKnown: 9,
        nodesReached: 7,
        queries: 12,
        rounds: 3,
      },
    );
    assert.equal(dht.lookups, 1);
  });

  test('peers found go to the probe as they come and are counted', async () => {
    const a = { host: '127.0.0.2', port: 6881 };
    const b = { host: '127.0.0.3', port: 6881 };
    const dht = new FakeDht(async (onPeers) => {
      onPeers([a]);
      onPeers([b]);
      return { peers: [a, b], rounds: 2, queries: 4, responses: 3 };
    });
    dht.nodes = 3;
    const got: PeerAddress[] = [];
    const into = source();
    await probeDht(
      dht,
      Buffer.from(HASH, 'hex'),
      into,
      (peers) => got.push(...peers),
      new AbortController().signal,
    );
    assert.deepEqual(got, [a, b]);
    assert.equal(into.status, 'answered');
    assert.equal(into.peers, 2);
    assert.equal(into.nodesReached, 3);
  });

  test('a lookup cut by the time bound: no-answer with the peers found so far', async () => {
    const abort = new AbortController();
    const dht = new FakeDht(
      (onPeers, signal) =>
        new Promise((_resolve, reject) => {
          onPeers([{ host: '127.0.0.2', port: 1 }]);
          signal?.addEventListener('abort', () =>
            reject(new LodestoneError('LODESTONE_ERR_ABORTED', 'aborted')),
          );
        }),
    );
    dht.nodes = 1;
    const into = source();
    const run = probeDht(dht, Buffer.from(HASH, 'hex'), into, () => {}, abort.signal);
    await flush();
    abort.abort();
    await run;
    assert.equal(into.status, 'no-answer');
    assert.equal(into.error, 'the lookup was still running at the end of the time (1 peers so far)');
  });

  test('a lookup in which no node answered: failed, not answered', async () => {
    const dht = new FakeDht(async () => ({ peers: [], rounds: 0, queries: 8, responses: 0 }));
    dht.nodes = 4;
    const into = source();
    await probeDht(dht, Buffer.from(HASH, 'hex'), into, () => {}, new AbortController().signal);
    assert.equal(into.status, 'failed');
    assert.equal(into.error, 'no node answered the lookup (8 queries, 4 nodes known)');
  });

  test('a private torrent: the DHT is not used (BEP 27), not even waited for', async () => {
    const clock = new FakeClock();
    const dht = new FakeDht(neverLooks, false);
    const meta = parseTorrent(
      encode({
        info: { name: 'p.bin', 'piece length': 16384, pieces: Buffer.alloc(20), length: 100, private: 1 },
      }),
    );
    const report = await runDiscoveryProbe({
      target: { kind: 'torrent', meta },
      peerId: Buffer.alloc(20, 1),
      port: 0,
      timeMs: 30_000,
      dht,
      clock,
    });
    assert.equal(report.durationMs, 0);
    assert.deepEqual(
      report.sources.find((s) => s.kind === 'dht'),
      { kind: 'dht', label: 'DHT', status: 'not-used', peers: 0, note: 'not used: private torrent' },
    );
    assert.equal(dht.lookups, 0);
  });
});
