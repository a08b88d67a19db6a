/** A torrent's file selection kept in step with its storage (once open) and its picker (once made). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Bitfield } from '../../../src/bitfield.js';
import { LodestoneError } from '../../../src/errors.js';
import { PiecePicker } from '../../../src/policy/piece-picker.js';
import type { FileChoice } from '../../../src/session/file-selection.js';
import { TorrentSelection } from '../../../src/session/torrent-selection.js';
import type { Storage } from '../../../src/storage/types.js';
import { makeFixture } from '../storage/fixtures.js';

/** a(16) | b(16) | c(16), pieces of 8: a is pieces 0-1, b 2-3, c 4-5. */
const { meta } = makeFixture(
  [
    { path: ['t', 'a'], length: 16 },
    { path: ['t', 'b'], length: 16 },
    { path: ['t', 'c'], length: 16 },
  ],
  8,
);

const wanted = (...flags: boolean[]): FileChoice[] => flags.map((w) => ({ wanted: w, priority: 'normal' }));

/** A storage that records each selection it is told (and can refuse them). */
function recordingStorage(fail?: Error) {
  const told: boolean[][] = [];
  const storage = {
    setFileSelection(selection: readonly boolean[]): Promise<void> {
      told.push([...selection]);
      return fail ? Promise.reject(fail) : Promise.resolve();
    },
  } as unknown as Storage;
  return { storage, told };
}

const pickerWith = (have: Bitfield) =>
  new PiecePicker({
    pieceCount: meta.pieceCount,
    pieceLength: meta.pieceLength,
    totalLength: meta.totalLength,
    random: () => 0,
    have,
  });

describe('torrent selection', () => {
  test('every file is wanted by default; a list that does not match the files is refused', () => {
    const selection = new TorrentSelection(meta, undefined, undefined);
    assert.deepEqual(
      selection.files.map((f) => f.wanted),
      [true, true, true],
    );
    assert.deepEqual(selection.wanted, { bytes: 48, all: true });
    assert.equal(selection.sequential, false);
    assert.throws(() => new TorrentSelection(meta, wanted(true), false), LodestoneError);
    assert.throws(() => selection.set(wanted(true, true), () => {}), LodestoneError);
  });

  test('the storage is told only once open (tellStorage), then at every change', async () => {
    const selection = new TorrentSelection(meta, wanted(true, false, true), false);
    const { storage, told } = recordingStorage();
    selection.set(wanted(false, false, true), () => {});
    assert.deepEqual(told, [], 'not before the storage is open');
    await selection.tellStorage(storage);
    selection.set(wanted(true, true, false), () => {});
    assert.deepEqual(told, [
      [false, false, true],
      [true, true, false],
    ]);
    assert.deepEqual(selection.wanted, { bytes: 32, all: false });
  });

  test('a storage that refuses a change reports it, and the selection still changes', async () => {
    const refusal = new Error('disk says no');
    const selection = new TorrentSelection(meta, undefined, false);
    await selection.tellStorage(recordingStorage().storage);
    const failing = recordingStorage(refusal);
    await selection.tellStorage(failing.storage).catch(() => {});
    const reported: unknown[] = [];
    selection.set(wanted(true, false, false), (error) => reported.push(error));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(reported, [refusal]);
    assert.equal(selection.files[1]?.wanted, false);
  });

  test('with a picker: a change re-prioritises it and hands it back (undefined before)', () => {
    const selection = new TorrentSelection(meta, wanted(true, false, false), false);
    assert.equal(
      selection.set(wanted(true, false, false), () => {}),
      undefined,
    );
    // Pieces 0-1 (file a) verified: with only a wanted nothing is missing.
    const have = new Bitfield(meta.pieceCount);
    have.set(0);
    have.set(1);
    const picker = pickerWith(have);
    selection.steer(picker);
    assert.equal(
      selection.set(wanted(true, false, false), () => {}),
      picker,
    );
    assert.equal(picker.wantedMissingCount, 0);
    selection.set(wanted(true, false, true), () => {});
    assert.equal(picker.wantedMissingCount, 2, 'file c (pieces 4-5) is wanted now');
  });
});
