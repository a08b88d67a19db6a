/**
 * Fuzzing the MSE/PE handshake decoders (initiator and receiver): arbitrary bytes, and a real
 * transcript with bytes flipped, inserted or cut, fed in random splits. Whatever comes, a side
 * either finishes, waits for more, or throws an MseError: never another error, never a send
 * larger than the protocol allows.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { MseError, MseInitiator, MseReceiver, req2Hash } from '../../src/net/mse/index.js';
import { seededRandom } from '../helpers/seeded-random.js';

const numRuns = Number(process.env.FUZZ_RUNS ?? 1000);
const INFO_HASH = createHash('sha1').update('fuzz').digest();
const BT_HANDSHAKE = Buffer.concat([Buffer.from('\x13BitTorrent protocol'), Buffer.alloc(48, 3)]);
const lookup = (req2: Buffer) => (req2Hash(INFO_HASH).equals(req2) ? INFO_HASH : undefined);

const initiator = () =>
  new MseInitiator({
    infoHash: INFO_HASH,
    provide: ['rc4', 'plaintext'],
    initialPayload: BT_HANDSHAKE,
    padCLength: 40,
    random: seededRandom(11),
  });
const receiver = () =>
  new MseReceiver({ lookup, accept: ['rc4', 'plaintext'], padDLength: 30, random: seededRandom(22) });

/** One honest exchange with fixed keys: what each side sent, in order. */
const transcript = (() => {
  const a = initiator();
  const b = receiver();
  const ya = Buffer.from(a.start());
  const yb = Buffer.from(b.push(ya).send!);
  const step3 = Buffer.from(a.push(yb).send!);
  const step4 = Buffer.from(b.push(step3).send!);
  return { toReceiver: Buffer.concat([ya, step3]), toInitiator: Buffer.concat([yb, step4]) };
})();

/** Feeds `bytes` cut at `cuts`; true if it finished. Only MseError may be thrown. */
function feed(
  side: { push(chunk: Uint8Array): { send: Uint8Array | undefined; done: unknown } },
  bytes: Buffer,
  cuts: number[],
): boolean {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((x, y) => x - y);
  let from = 0;
  try {
    for (const to of [...points, bytes.length]) {
      if (to <= from) continue;
      const step = side.push(bytes.subarray(from, to));
      from = to;
      // Yb + PadB ≤ 608; VC, select, PadD ≤ 526; both at once ≤ 1134.
      if (step.send) assert.ok(step.send.length <= 96 + 512 + 8 + 6 + 512 + 20 + 20 + 1024);
      if (step.done) return true;
    }
  } catch (error) {
    if (!(error instanceof MseError)) throw error;
  }
  return false;
}

type Mutation =
  | { kind: 'flip'; at: number; bits: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'cut'; at: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bits: fc.integer({ min: 1, max: 255 }) }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 600 }),
  }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
);

function mutate(bytes: Buffer, m: Mutation): Buffer {
  const at = m.at % bytes.length;
  if (m.kind === 'flip') {
    const copy = Buffer.from(bytes);
    copy[at] = copy[at]! ^ m.bits;
    return copy;
  }
  if (m.kind === 'insert') return Buffer.concat([bytes.subarray(0, at), m.bytes, bytes.subarray(at)]);
  return bytes.subarray(0, at);
}

test('the honest transcript completes on both sides in any split', () => {
  fc.assert(
    fc.property(fc.array(fc.nat(), { maxLength: 8 }), (cuts) => {
      assert.ok(feed(receiver(), transcript.toReceiver, cuts));
      const a = initiator();
      a.start();
      assert.ok(feed(a, transcript.toInitiator, cuts));
    }),
    { numRuns: Math.max(50, numRuns / 20) },
  );
});

test('receiver: arbitrary bytes only ever give an MseError or a wait', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 1500 }), fc.array(fc.nat(), { maxLength: 6 }), (bytes, cuts) => {
      feed(receiver(), Buffer.from(bytes), cuts);
    }),
    { numRuns },
  );
});

test('receiver: a mutated honest transcript finishes, waits or fails with an MseError', () => {
  fc.assert(
    fc.property(mutation, fc.array(fc.nat(), { maxLength: 6 }), (m, cuts) => {
      feed(receiver(), mutate(transcript.toReceiver, m), cuts);
    }),
    { numRuns },
  );
});

test('initiator: arbitrary or mutated answers finish, wait or fail with an MseError', () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 1500 }).map((b) => Buffer.from(b)),
        mutation.map((m) => mutate(transcript.toInitiator, m)),
      ),
      fc.array(fc.nat(), { maxLength: 6 }),
      (bytes, cuts) => {
        const a = initiator();
        a.start();
        feed(a, bytes, cuts);
      },
    ),
    { numRuns },
  );
});
