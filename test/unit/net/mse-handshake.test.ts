import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  KEY_LENGTH,
  MseInitiator,
  type MseInitiatorOptions,
  type MseMethod,
  MseReceiver,
  type MseReceiverOptions,
  type MseResult,
  req2Hash,
} from '../../../src/net/mse/index.js';
import { seededRandom } from '../../helpers/seeded-random.js';

const INFO_HASH = createHash('sha1').update('torrent one').digest();
const OTHER_HASH = createHash('sha1').update('torrent two').digest();
const BT_HANDSHAKE = Buffer.concat([Buffer.from('\x13BitTorrent protocol'), Buffer.alloc(48, 7)]);

function lookupOf(...hashes: Buffer[]): (req2: Buffer) => Uint8Array | undefined {
  const table = new Map(hashes.map((hash) => [req2Hash(hash).toString('hex'), hash]));
  return (req2) => table.get(req2.toString('hex'));
}

interface Run {
  initiator: MseResult;
  receiver: MseResult;
  /** Every byte the initiator sent / the receiver sent, in order. */
  toReceiver: Buffer;
  toInitiator: Buffer;
}

/**
 * Runs both sides against each other in memory. `split(direction, bytes)` cuts what one side
 * sends into the chunks the other receives (default: one chunk).
 */
function handshake(
  initiatorOptions: Partial<MseInitiatorOptions>,
  receiverOptions: Partial<MseReceiverOptions>,
  split: (bytes: Buffer, toReceiver: boolean) => Buffer[] = (bytes) => [bytes],
  seed = 1,
): Run {
  const initiator = new MseInitiator({
    infoHash: INFO_HASH,
    provide: ['rc4'],
    random: seededRandom(seed),
    ...initiatorOptions,
  });
  const receiver = new MseReceiver({
    lookup: lookupOf(OTHER_HASH, INFO_HASH),
    accept: ['rc4', 'plaintext'],
    random: seededRandom(seed + 1000),
    ...receiverOptions,
  });
  const sentToReceiver: Buffer[] = [];
  const sentToInitiator: Buffer[] = [];
  let initiatorDone: MseResult | undefined;
  let receiverDone: MseResult | undefined;
  let toReceiver = [Buffer.from(initiator.start())];
  for (let round = 0; round < 4 && !(initiatorDone && receiverDone); round++) {
    const toInitiator: Buffer[] = [];
    for (const bytes of toReceiver) {
      sentToReceiver.push(bytes);
      for (const chunk of split(bytes, true)) {
        const step = receiver.push(chunk);
        if (step.send) toInitiator.push(Buffer.from(step.send));
        if (step.done) receiverDone = step.done;
      }
    }
    toReceiver = [];
    for (const bytes of toInitiator) {
      sentToInitiator.push(bytes);
      for (const chunk of split(bytes, false)) {
        const step = initiator.push(chunk);
        if (step.send) toReceiver.push(Buffer.from(step.send));
        if (step.done) initiatorDone = step.done;
      }
    }
  }
  assert.ok(initiatorDone, 'initiator finished');
  assert.ok(receiverDone, 'receiver finished');
  return {
    initiator: initiatorDone,
    receiver: receiverDone,
    toReceiver: Buffer.concat(sentToReceiver),
    toInitiator: Buffer.concat(sentToInitiator),
  };
}

/** After the handshake both sides' streams carry data: A→B and B→A round-trip. */
function assertStreams(run: Run, method: MseMethod): void {
  assert.equal(run.initiator.method, method);
  assert.equal(run.receiver.method, method);
  assert.deepEqual(Buffer.from(run.receiver.infoHash), INFO_HASH);
  for (const [from, to] of [
    [run.initiator, run.receiver],
    [run.receiver, run.initiator],
  ] as const) {
    const message = Buffer.from('hello over the wire, a few times over '.repeat(3));
    const wire = Buffer.from(message);
    from.encrypt?.process(wire);
    if (method === 'rc4') assert.notDeepEqual(wire, message);
    else assert.deepEqual(wire, message);
    to.decrypt?.process(wire);
    assert.deepEqual(wire, message);
  }
}

describe('MSE handshake in memory', () => {
  test('RC4 with the BitTorrent handshake as initial payload: the receiver gets it decrypted', () => {
    const run = handshake({ initialPayload: BT_HANDSHAKE }, {});
    assertStreams(run, 'rc4');
    assert.deepEqual(run.receiver.payload, BT_HANDSHAKE);
    assert.equal(run.initiator.payload.length, 0);
    assert.equal(run.toReceiver.indexOf('BitTorrent protocol'), -1, 'IA is never in the clear');
  });

  test('plaintext selected when only plaintext is offered; the IA is still decrypted for the receiver', () => {
    const run = handshake({ provide: ['plaintext'], initialPayload: BT_HANDSHAKE }, {});
    assertStreams(run, 'plaintext');
    assert.deepEqual(run.receiver.payload, BT_HANDSHAKE);
  });

  test('RC4 is selected when both are offered and accepted; plaintext when the receiver accepts only that', () => {
    assertStreams(handshake({ provide: ['rc4', 'plaintext'] }, {}), 'rc4');
    assertStreams(handshake({ provide: ['rc4', 'plaintext'] }, { accept: ['plaintext'] }), 'plaintext');
  });

  test('no initial payload: the receiver gets an empty payload', () => {
    const run = handshake({}, {});
    assertStreams(run, 'rc4');
    assert.equal(run.receiver.payload.length, 0);
  });

  test('with padding on all four pads (random PadA/PadB, 300-byte PadC, 512-byte PadD)', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const run = handshake(
        { padCLength: 300, initialPayload: BT_HANDSHAKE },
        { padDLength: 512 },
        undefined,
        seed,
      );
      assertStreams(run, 'rc4');
      assert.deepEqual(run.receiver.payload, BT_HANDSHAKE);
    }
  });

  test('the largest padding, 512 bytes before the sync marker on both sides, is still found', () => {
    const run = handshake(
      { maxPadding: 512, padCLength: 512 },
      { maxPadding: 512, padDLength: 512 },
      undefined,
      5,
    );
    assertStreams(run, 'rc4');
  });

  test('every split of each message into two reads gives the same result', () => {
    const reference = handshake(
      { padCLength: 17, initialPayload: BT_HANDSHAKE },
      { padDLength: 9 },
      undefined,
      3,
    );
    for (const toReceiverSide of [true, false]) {
      const total = toReceiverSide ? reference.toReceiver.length : reference.toInitiator.length;
      for (let at = 1; at < total; at++) {
        let offset = 0;
        const run = handshake(
          { padCLength: 17, initialPayload: BT_HANDSHAKE },
          { padDLength: 9 },
          (bytes, toReceiver) => {
            if (toReceiver !== toReceiverSide) return [bytes];
            const start = offset;
            offset += bytes.length;
            if (at <= start || at >= offset) return [bytes];
            return [bytes.subarray(0, at - start), bytes.subarray(at - start)];
          },
          3,
        );
        assert.deepEqual(run.receiver.payload, BT_HANDSHAKE, `split at ${at}`);
        assert.equal(run.initiator.method, 'rc4');
      }
    }
  });

  test('one byte at a time, and bytes after the handshake in the same read are payload, decrypted', () => {
    const run = handshake(
      { initialPayload: BT_HANDSHAKE },
      {},
      (bytes) => [...bytes].map((b) => Buffer.of(b)),
      9,
    );
    assertStreams(run, 'rc4');
    // The receiver's answer followed at once by encrypted data: the initiator finishes with it.
    const initiator = new MseInitiator({ infoHash: INFO_HASH, provide: ['rc4'], random: seededRandom(4) });
    const receiver = new MseReceiver({
      lookup: lookupOf(INFO_HASH),
      accept: ['rc4'],
      random: seededRandom(5),
    });
    const yb = receiver.push(initiator.start()).send!;
    const step3 = initiator.push(yb).send!;
    const step4 = receiver.push(step3);
    const data = Buffer.from('bitfield and more');
    const wire = Buffer.from(data);
    step4.done!.encrypt!.process(wire);
    const end = initiator.push(Buffer.concat([step4.send!, wire]));
    assert.deepEqual(end.done!.payload, data);
  });
});

describe('MSE handshake failures', () => {
  function code(fn: () => unknown): string {
    try {
      fn();
    } catch (error) {
      return `${(error as { code: string }).code}/${(error as { reason: string }).reason}`;
    }
    return 'no error';
  }

  test('an unknown torrent (req2 ^ req3 names none of ours)', () => {
    assert.equal(
      code(() => handshake({}, { lookup: lookupOf(OTHER_HASH) })),
      'LODESTONE_ERR_MSE/unknown-torrent',
    );
  });

  test('a bad VC: the lookup hands back a different key than the initiator used', () => {
    assert.equal(
      code(() => handshake({}, { lookup: () => OTHER_HASH })),
      'LODESTONE_ERR_MSE/bad-vc',
    );
  });

  test('no common method, either side', () => {
    assert.equal(
      code(() => handshake({ provide: ['plaintext'] }, { accept: ['rc4'] })),
      'LODESTONE_ERR_MSE/no-common-method',
    );
    // A receiver that selects plaintext although only RC4 was offered: flip the select's bits.
    const initiator = new MseInitiator({ infoHash: INFO_HASH, provide: ['rc4'], random: seededRandom(2) });
    const receiver = new MseReceiver({
      lookup: lookupOf(INFO_HASH),
      accept: ['rc4'],
      random: seededRandom(3),
    });
    const yb = receiver.push(initiator.start()).send!;
    const answer = Buffer.from(receiver.push(initiator.push(yb).send!).send!);
    answer[11] = answer[11]! ^ 0x03;
    assert.equal(
      code(() => initiator.push(answer)),
      'LODESTONE_ERR_MSE/no-common-method',
    );
  });

  test('PadC longer than 512 bytes', () => {
    assert.equal(
      code(() => handshake({ padCLength: 513 }, {})),
      'LODESTONE_ERR_MSE/padding-too-long',
    );
  });

  test('PadD longer than 512 bytes', () => {
    assert.equal(
      code(() => handshake({}, { padDLength: 513 })),
      'LODESTONE_ERR_MSE/padding-too-long',
    );
  });

  test('receiver: garbage after the key, no sync marker within 532 bytes, fails at that byte and not before', () => {
    const initiator = new MseInitiator({ infoHash: INFO_HASH, provide: ['rc4'], random: seededRandom(6) });
    const ya = Buffer.from(initiator.start()).subarray(0, KEY_LENGTH);
    const receiver = new MseReceiver({
      lookup: lookupOf(INFO_HASH),
      accept: ['rc4'],
      random: seededRandom(7),
    });
    receiver.push(ya);
    const garbage = Buffer.alloc(531, 0xaa);
    assert.equal(receiver.push(garbage).done, undefined);
    assert.equal(
      code(() => receiver.push(Buffer.of(0xaa))),
      'LODESTONE_ERR_MSE/sync-not-found',
    );
  });

  test('initiator: endless padding after Yb, no VC within 520 bytes, fails at that byte and not before', () => {
    const initiator = new MseInitiator({ infoHash: INFO_HASH, provide: ['rc4'], random: seededRandom(8) });
    const receiver = new MseReceiver({
      lookup: lookupOf(INFO_HASH),
      accept: ['rc4'],
      random: seededRandom(9),
      maxPadding: 0,
    });
    const yb = Buffer.from(receiver.push(initiator.start()).send!);
    assert.equal(yb.length, KEY_LENGTH);
    initiator.push(yb);
    assert.equal(initiator.push(Buffer.alloc(519, 0x55)).done, undefined);
    assert.equal(
      code(() => initiator.push(Buffer.of(0x55))),
      'LODESTONE_ERR_MSE/sync-not-found',
    );
  });

  test('a degenerate public key (0, 1 or P-1) is refused', () => {
    for (const key of [Buffer.alloc(96), Buffer.concat([Buffer.alloc(95), Buffer.of(1)])]) {
      const receiver = new MseReceiver({
        lookup: lookupOf(INFO_HASH),
        accept: ['rc4'],
        random: seededRandom(10),
      });
      assert.equal(
        code(() => receiver.push(key)),
        'LODESTONE_ERR_MSE/bad-key',
      );
    }
  });

  test('an initial payload above 1024 bytes', () => {
    assert.equal(
      code(() => handshake({ initialPayload: Buffer.alloc(1025) }, {})),
      'LODESTONE_ERR_MSE/payload-too-long',
    );
  });
});
