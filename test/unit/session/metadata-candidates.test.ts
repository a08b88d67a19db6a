import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  MAX_METADATA_CANDIDATES,
  METADATA_ASSEMBLY_BYTES_LIMIT,
  MetadataCandidates,
} from '../../../src/session/metadata-candidates.js';
import { MAX_METADATA_SIZE, METADATA_BLOCK_SIZE } from '../../../src/wire/index.js';

const infoHash = createHash('sha1').update('x').digest();
const block = randomBytes(METADATA_BLOCK_SIZE);

function fill(candidates: MetadataCandidates, peer: string, size: number): void {
  for (const piece of candidates.nextRequests(peer, size, 1000)) {
    assert.equal(
      candidates.receive(
        peer,
        size,
        piece,
        block.subarray(0, Math.min(METADATA_BLOCK_SIZE, size - piece * METADATA_BLOCK_SIZE)),
      ),
      'stored',
    );
  }
}

describe('MetadataCandidates', () => {
  test('at most two sizes are assembled; the others wait and take a slot when a candidate fails', () => {
    const candidates = new MetadataCandidates(infoHash, () => 0);
    assert.equal(MAX_METADATA_CANDIDATES, 2);
    assert.equal(METADATA_ASSEMBLY_BYTES_LIMIT, 2 * MAX_METADATA_SIZE);
    for (let i = 0; i < 100; i++) candidates.claim(`p${i}`, MAX_METADATA_SIZE - i);
    assert.deepEqual(candidates.stats.candidateSizes, [MAX_METADATA_SIZE, MAX_METADATA_SIZE - 1]);
    assert.equal(candidates.stats.waitingSizes, 98);
    assert.equal(candidates.stats.assemblyBytes, 0, 'nothing allocated before a block is requested');
    assert.equal(candidates.assembly(MAX_METADATA_SIZE - 2), undefined, 'no assembly for a waiting size');
    assert.equal(candidates.receive('p2', MAX_METADATA_SIZE - 2, 0, block), 'unrequested');
    fill(candidates, 'p0', MAX_METADATA_SIZE);
    fill(candidates, 'p1', MAX_METADATA_SIZE - 1);
    assert.equal(candidates.stats.assemblyBytes, 2 * MAX_METADATA_SIZE - 1);
    // p0 goes away: its size and its 8 MiB are dropped, the next size takes the slot.
    assert.equal(candidates.release('p0', MAX_METADATA_SIZE), true);
    assert.deepEqual(candidates.stats.candidateSizes, [MAX_METADATA_SIZE - 1, MAX_METADATA_SIZE - 2]);
    assert.equal(
      candidates.stats.assemblyBytes,
      2 * MAX_METADATA_SIZE - 1,
      'the freed buffer is kept as a spare',
    );
    fill(candidates, 'p2', MAX_METADATA_SIZE - 2);
    assert.equal(
      candidates.stats.assemblyBytes,
      2 * MAX_METADATA_SIZE - 1,
      'the spare is reused, not a new 8 MiB',
    );
    // A size bigger than the spare lets the spare go before allocating its own buffer.
    const one = new MetadataCandidates(infoHash, () => 0, 1);
    one.claim('small', 20_000);
    fill(one, 'small', 20_000);
    one.release('small', 20_000);
    one.claim('big', 40_000);
    fill(one, 'big', 40_000);
    assert.equal(one.stats.assemblyBytes, 40_000);
    assert.ok(candidates.stats.peakAssemblyBytes <= METADATA_ASSEMBLY_BYTES_LIMIT);
    assert.equal(candidates.stats.peakAssemblyBytes, 2 * MAX_METADATA_SIZE - 1);
  });

  test('the size offered by the most peers is assembled first; a size stays while a peer offers it', () => {
    const candidates = new MetadataCandidates(infoHash, () => 0, 1);
    candidates.claim('lone', 1000);
    assert.deepEqual(candidates.stats.candidateSizes, [1000]);
    candidates.claim('a', 2000);
    candidates.claim('b', 2000);
    assert.deepEqual(candidates.stats.candidateSizes, [1000], 'a running candidate is not preempted');
    assert.equal(candidates.release('lone', 1000), true);
    candidates.claim('c', 3000);
    assert.deepEqual(candidates.stats.candidateSizes, [2000], 'two peers beat one');
    assert.equal(candidates.release('a', 2000), false, 'b still offers it');
    assert.deepEqual(candidates.stats.candidateSizes, [2000]);
    assert.equal(candidates.release('b', 2000), true);
    assert.deepEqual(candidates.stats.candidateSizes, [3000]);
    assert.equal(candidates.stats.waitingSizes, 0);
  });
});
