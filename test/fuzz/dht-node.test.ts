/**
 * A DhtNode fed arbitrary KRPC messages from arbitrary addresses while a lookup runs, some of them
 * replies carrying the tid of a query really outstanding (from the right address or not): it never
 * throws, stays within its bounds, and sends nothing but its own queries and one reply per query.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { DhtNode } from '../../src/dht/dht-node.js';
import type { KrpcMessage, KrpcQuery } from '../../src/dht/messages.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { arbHost4, arbKrpcMessage } from '../helpers/krpc-arbitrary.js';
import { seededRandom } from '../helpers/seeded-random.js';

// A run is a whole node session (up to 80 inputs), so a tenth of FUZZ_RUNS: npm run fuzz stays within the per-test timeout.
const numRuns = Math.ceil(Number(process.env.FUZZ_RUNS ?? 3000) / 10);
const OUR_METHODS = new Set(['ping', 'find_node', 'get_peers', 'announce_peer']);

const arbStep = fc.record({
  message: arbKrpcMessage,
  /** Reuse the tid of a query we sent. */
  echo: fc.boolean(),
  /** ...from the address it went to. */
  fromQueried: fc.boolean(),
  host: arbHost4,
  port: fc.integer({ min: 1, max: 65535 }),
  advanceMs: fc.integer({ min: 0, max: 3000 }),
});

describe('DhtNode under arbitrary input', () => {
  test('never throws, stays bounded, sends only its queries and one reply per query', async () => {
    return fc.assert(
      fc.asyncProperty(fc.array(arbStep, { maxLength: 80 }), async (steps) => {
        const clock = new FakeClock();
        const sent: { message: KrpcMessage; to: { host: string; port: number } }[] = [];
        const node = new DhtNode({
          clock,
          random: seededRandom(9),
          send: (message, to) => sent.push({ message, to }),
          maxOutstanding: 4,
        });
        const seed = { host: '10.0.0.1', port: 6881 };
        node.receive(
          {
            kind: 'query',
            method: 'ping',
            tid: Uint8Array.of(1),
            id: new Uint8Array(20).fill(7),
            readOnly: false,
          },
          seed,
        );
        let settled = false;
        void node.getPeers(new Uint8Array(20).fill(3)).finally(() => {
          settled = true;
        });
        const ourQueries: { message: KrpcQuery; to: { host: string; port: number } }[] = [];
        let repliesAllowed = 1; // the seed's ping
        const audit = (): void => {
          for (const { message, to } of sent.splice(0)) {
            if (message.kind === 'query') {
              assert.ok(OUR_METHODS.has(message.method), `we sent ${message.method}`);
              ourQueries.push({ message, to });
            } else {
              assert.ok(repliesAllowed > 0, 'a reply nobody asked for');
              repliesAllowed--;
            }
          }
        };
        audit();
        for (const step of steps) {
          let message = step.message;
          let from = { host: step.host, port: step.port };
          const target = ourQueries[ourQueries.length - 1];
          if (message.kind !== 'query' && step.echo && target) {
            message = { ...message, tid: target.message.tid };
            if (step.fromQueried) from = target.to;
          }
          if (message.kind === 'query') repliesAllowed++;
          node.receive(message, from, 100);
          audit();
          const stats = node.stats();
          assert.ok(stats.outstanding <= 4);
          assert.ok(stats.nodes <= 160 * 8 * 2);
          clock.advance(step.advanceMs);
          audit();
        }
        node.close();
        assert.equal(clock.pendingTimers, 0, 'close leaves no timer');
        clock.advance(600_000);
        audit();
        // A lookup runs once per address family (BEP 32); the merged promise settles a few
        // microtasks after close, so look once the microtask queue is empty.
        return new Promise<void>((resolve) => setImmediate(resolve)).then(() =>
          assert.ok(settled, 'the lookup ended'),
        );
      }),
      { numRuns },
    );
  });
});
