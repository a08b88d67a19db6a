import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isLodestoneError } from '../../../src/errors.js';
import { PeerBudget, pickDonor } from '../../../src/policy/peer-budget.js';

describe('PeerBudget: one connection budget for the process', () => {
  test('defaults: 200 over all torrents, 50 per torrent', () => {
    assert.deepEqual(new PeerBudget().limits, { global: 200, perTorrent: 50 });
  });

  test('a torrent may grow to the per-torrent cap while global slots are free', () => {
    const budget = new PeerBudget({ global: 10, perTorrent: 4 });
    assert.equal(budget.ceiling(0), 4);
    for (let i = 0; i < 3; i++) budget.opened();
    assert.equal(budget.ceiling(3), 4);
  });

  test("a torrent's own cap replaces the per-torrent one (above or below it); the global cap still holds", () => {
    const budget = new PeerBudget({ global: 8, perTorrent: 2 });
    assert.equal(budget.ceiling(0, 5), 5, 'above the per-torrent default');
    assert.equal(budget.ceiling(0, 1), 1, 'below it');
    for (let i = 0; i < 6; i++) budget.opened();
    assert.equal(budget.ceiling(3, 5), 5, '3 open, 2 global slots free');
    budget.opened();
    assert.equal(budget.ceiling(3, 5), 4, 'only 1 global slot left');
  });

  test('the global cap bounds every torrent: free slots are shared, none is left at the cap', () => {
    const budget = new PeerBudget({ global: 5, perTorrent: 4 });
    // Torrent A has 4, torrent B has 0: one slot left, B may take it, A is at its own cap.
    for (let i = 0; i < 4; i++) budget.opened();
    assert.equal(budget.ceiling(0), 1);
    budget.opened();
    assert.equal(budget.full, true);
    assert.equal(budget.ceiling(1), 1, 'B is full: no global slot left');
    assert.equal(budget.ceiling(4), 4, 'A is full too');
    budget.closed();
    assert.equal(budget.ceiling(1), 2);
  });

  test('limits change live; a lowered cap refuses new connections without closing any', () => {
    const budget = new PeerBudget({ global: 10, perTorrent: 10 });
    for (let i = 0; i < 6; i++) budget.opened();
    budget.setLimits({ global: 4 });
    assert.deepEqual(budget.limits, { global: 4, perTorrent: 10 });
    assert.equal(budget.ceiling(6), 6, 'no room above what is open');
    assert.equal(budget.ceiling(0), 0, 'another torrent gets nothing');
    budget.setLimits({ perTorrent: 2, global: 20 });
    assert.equal(budget.ceiling(1), 2);
  });

  test('a limit that is not an integer ≥ 1 is a usage error', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      assert.throws(
        () => new PeerBudget({ global: bad }),
        (error) => isLodestoneError(error) && error.code === 'LODESTONE_ERR_USAGE',
      );
      assert.throws(() => new PeerBudget().setLimits({ perTorrent: bad }), /peer limit/);
    }
  });

  test('closed never goes below zero', () => {
    const budget = new PeerBudget({ global: 2 });
    budget.closed();
    assert.equal(budget.total, 0);
  });
});

describe('pickDonor: fair share once the global cap is full', () => {
  const full = (global: number) => {
    const budget = new PeerBudget({ global, perTorrent: global });
    for (let i = 0; i < global; i++) budget.opened();
    return budget;
  };

  test('a starved torrent gets a slot from the torrent with the most peers above its share', () => {
    // 3 torrents share 12: a share of 4. B has 8 (above), C has 4, A has 0 and wants more.
    const donor = pickDonor(full(12), [
      { peers: 0, wantsMore: true },
      { peers: 8, wantsMore: true },
      { peers: 4, wantsMore: true },
    ]);
    assert.equal(donor, 1);
  });

  test('nothing moves while the cap is not full', () => {
    const budget = new PeerBudget({ global: 12 });
    for (let i = 0; i < 11; i++) budget.opened();
    assert.equal(
      pickDonor(budget, [
        { peers: 0, wantsMore: true },
        { peers: 11, wantsMore: false },
      ]),
      -1,
    );
  });

  test('nothing moves when the starved torrent has nobody to dial', () => {
    assert.equal(
      pickDonor(full(12), [
        { peers: 0, wantsMore: false },
        { peers: 12, wantsMore: false },
      ]),
      -1,
    );
  });

  test('nothing moves when every torrent is at or below its share', () => {
    // 3 torrents, cap 9: share 3 each, all at 3 (one of them wanting more cannot take from equals).
    assert.equal(
      pickDonor(full(9), [
        { peers: 3, wantsMore: true },
        { peers: 3, wantsMore: true },
        { peers: 3, wantsMore: true },
      ]),
      -1,
    );
  });

  test('a torrent exactly at its share never gives (the budget may also count connections closing)', () => {
    // Cap 12 full, 3 torrents: a share of 4. A has 2 and wants more, B and C have 4 each.
    assert.equal(
      pickDonor(full(12), [
        { peers: 2, wantsMore: true },
        { peers: 4, wantsMore: false },
        { peers: 4, wantsMore: false },
      ]),
      -1,
    );
  });

  test('more torrents than slots: the share is 1, a torrent with 2 gives one to a torrent with none', () => {
    const torrents = [
      { peers: 2, wantsMore: false },
      ...Array.from({ length: 4 }, () => ({ peers: 0, wantsMore: true })),
    ];
    assert.equal(pickDonor(full(2), torrents), 0);
  });
});
