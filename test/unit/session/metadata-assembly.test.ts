import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { METADATA_BLOCK_SIZE, MetadataAssembly } from '../../../src/session/metadata-assembly.js';

const info = randomBytes(2 * METADATA_BLOCK_SIZE + 1000); // three blocks
const infoHash = createHash('sha1').update(info).digest();
const block = (piece: number, source: Buffer = info) =>
  source.subarray(piece * METADATA_BLOCK_SIZE, (piece + 1) * METADATA_BLOCK_SIZE);
const forged = Buffer.from(info);
forged[5]! ^= 0xff; // block 0 differs

function setup() {
  const clock = { now: 0 };
  return { clock, assembly: new MetadataAssembly(infoHash, info.length, () => clock.now) };
}

describe('MetadataAssembly', () => {
  test('a peer that answers nothing for the timeout is expired and its blocks go to another peer', () => {
    const { clock, assembly } = setup();
    assert.deepEqual(assembly.nextRequests('silent', 2), [0, 1]);
    assert.deepEqual(assembly.nextRequests('honest', 2), [2]);
    clock.now = 7999;
    assert.deepEqual(assembly.expire(8000), []);
    assert.equal(assembly.receive('honest', 2, block(2)), 'stored');
    clock.now = 8000;
    assert.deepEqual(assembly.expire(8000), ['silent'], 'silent asked at 0, answered nothing');
    assert.deepEqual(assembly.nextRequests('honest', 2), [0, 1], 're-asked of the other peer');
    assert.equal(assembly.receive('honest', 0, block(0)), 'stored');
    assert.equal(assembly.receive('honest', 1, block(1)), 'stored');
    assert.equal(assembly.verdict().kind, 'valid');
  });

  test('the timeout counts from the last answer, so a slow but steady peer is kept', () => {
    const { clock, assembly } = setup();
    assert.deepEqual(assembly.nextRequests('slow', 3), [0, 1, 2]);
    clock.now = 6000;
    assembly.receive('slow', 0, block(0));
    clock.now = 12_000;
    assert.deepEqual(assembly.expire(8000), [], 'answered 6 s ago');
    clock.now = 14_000;
    assert.deepEqual(assembly.expire(8000), ['slow']);
  });

  test('after a failed mixed attempt a silent solo peer loses its turn and another peer is solo', () => {
    const { clock, assembly } = setup();
    assembly.nextRequests('liar', 1);
    assembly.nextRequests('silent', 1);
    assembly.nextRequests('honest', 1);
    assembly.receive('liar', 0, block(0, forged));
    assembly.receive('silent', 1, block(1));
    assembly.receive('honest', 2, block(2));
    const failed = assembly.verdict();
    assert.equal(failed.kind, 'invalid');
    assert.equal(
      failed.kind === 'invalid' ? failed.proven : 'x',
      undefined,
      'a mixed failure proves nothing',
    );
    // Solo: the first peer to ask gets every block, the others nothing.
    assert.deepEqual(assembly.nextRequests('silent', 16), [0, 1, 2]);
    assert.deepEqual(assembly.nextRequests('honest', 16), []);
    clock.now = 8000;
    assert.deepEqual(assembly.expire(8000), ['silent']);
    assert.deepEqual(assembly.nextRequests('honest', 16), [0, 1, 2], 'the turn passes on');
    for (const piece of [0, 1, 2]) assembly.receive('honest', piece, block(piece));
    const verdict = assembly.verdict();
    assert.equal(verdict.kind, 'valid');
    // The honest attempt shows who lied in the mixed one.
    assert.deepEqual(verdict.kind === 'valid' ? verdict.liars : [], [{ peer: 'liar', piece: 0 }]);
  });

  test('a solo attempt that fails proves its peer a liar', () => {
    const { assembly } = setup();
    assembly.nextRequests('liar', 1);
    assembly.nextRequests('honest', 2);
    assembly.receive('liar', 0, block(0, forged));
    assembly.receive('honest', 1, block(1));
    assembly.receive('honest', 2, block(2));
    assert.equal(assembly.verdict().kind, 'invalid');
    assert.deepEqual(assembly.nextRequests('liar', 16), [0, 1, 2]);
    for (const piece of [0, 1, 2]) assembly.receive('liar', piece, block(piece, forged));
    const verdict = assembly.verdict();
    assert.deepEqual(verdict, { kind: 'invalid', contributors: ['liar'], proven: 'liar' });
    assert.ok(assembly.isSuspect('liar'));
    assert.deepEqual(assembly.nextRequests('liar', 16), []);
    assert.equal(assembly.canServe('liar'), false);
    // The honest solo attempt then verifies; the liar, already proven, is not named twice.
    assert.deepEqual(assembly.nextRequests('honest', 16), [0, 1, 2]);
    for (const piece of [0, 1, 2]) assembly.receive('honest', piece, block(piece));
    const valid = assembly.verdict();
    assert.deepEqual(valid.kind === 'valid' ? valid.liars : undefined, []);
  });

  test('a peer that rejected a block is never solo, and one that rejected every block can serve nothing', () => {
    const { assembly } = setup();
    assembly.nextRequests('a', 3);
    assembly.reject('a', 0);
    assert.equal(assembly.canServe('a'), true);
    assembly.reject('a', 1);
    assembly.reject('a', 2);
    assert.equal(assembly.canServe('a'), false);
    assert.deepEqual(assembly.nextRequests('a', 3), []);
    // After a failed attempt, 'a' cannot take the solo turn; 'b' can.
    assembly.nextRequests('b', 3);
    for (const piece of [0, 1, 2]) assembly.receive('b', piece, block(piece, forged));
    assembly.verdict();
    assert.deepEqual(assembly.nextRequests('a', 3), []);
  });

  test('a block not asked of that peer is refused and nothing is stored', () => {
    const { assembly } = setup();
    assert.equal(assembly.receive('pusher', 0, block(0)), 'unrequested', 'never asked');
    assert.equal(assembly.allocatedBytes, 0, 'nothing allocated before a request');
    assert.deepEqual(assembly.nextRequests('a', 1), [0]);
    assert.equal(assembly.allocatedBytes, info.length, 'allocated at the first request');
    assert.equal(assembly.receive('b', 0, block(0)), 'unrequested', 'asked of another peer');
    assert.equal(assembly.receive('a', 1, block(1)), 'unrequested', 'not this block');
    assert.equal(assembly.receive('a', 0, block(0).subarray(1)), 'invalid', 'wrong length');
    assert.equal(assembly.receive('a', 0, block(0)), 'stored');
    assert.equal(assembly.receive('a', 0, block(0)), 'unrequested', 'answered twice');
    assert.equal(assembly.allocatedBytes, info.length, 'one buffer of the metadata size');
  });
});
