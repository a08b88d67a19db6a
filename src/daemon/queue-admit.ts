/**
 * A new torrent joins the queue without a plan over every torrent (docs/queue.md, "Adding"). Pure.
 *
 * A torrent added joins the queue last and is not running. Given the decision over the others
 * (`decideQueue`), its own place in the decision over all of them depends only on how many run
 * slots the others hold per direction: it takes no slot from anyone (running torrents keep theirs,
 * free slots go in queue order and it is last), so nobody else's state changes, and it runs when a
 * slot of its direction is free. Transmission keeps the same counts (active torrents per direction)
 * and lets a new torrent in by them. `admitToQueue` is O(1); `slotsHeld` is computed once per full
 * plan (O(torrents), part of that plan's cost).
 */
import {
  isRunState,
  outsideQueue,
  type QueueDecision,
  type QueueSettings,
  type QueueState,
  type QueueTorrent,
  queueLimits,
} from '../policy/torrent-queue.js';

/** Run slots held per direction: queue contenders the decision lets run (start-now and stalled torrents hold none). */
export interface QueueSlots {
  readonly down: number;
  readonly up: number;
}

/** The run slots a decision over `torrents` hands out (O(torrents)). */
export function slotsHeld(torrents: readonly QueueTorrent[], decision: QueueDecision): QueueSlots {
  const state = new Map(decision.states.map(({ id, state }) => [id, state]));
  let down = 0;
  let up = 0;
  for (const t of torrents) {
    if (outsideQueue(t) !== undefined || !isRunState(state.get(t.id))) continue;
    if (t.done) up++;
    else down++;
  }
  return { down, up };
}

/**
 * The state of `newcomer` in the decision over all torrents, given the slots the others hold
 * (their plan applied), and the slots held once it is in. O(1). The newcomer is either
 * - not running and after every other torrent in the queue (just added), or
 * - running anywhere in the queue and held no slot until now (its check, which takes none, just
 *   ended): while its direction has a free slot nobody waits there, so it keeps running and takes
 *   one; with none free it may displace a running torrent below it: `undefined`, plan them all.
 */
export function admitToQueue(
  newcomer: QueueTorrent,
  held: QueueSlots,
  settings: QueueSettings,
): { state: QueueState; held: QueueSlots } | undefined {
  const outside = outsideQueue(newcomer);
  if (outside !== undefined) return { state: outside, held };
  const limits = queueLimits(settings);
  if (newcomer.done) {
    if (held.up < limits.up) return { state: 'seeding', held: { down: held.down, up: held.up + 1 } };
    return newcomer.running ? undefined : { state: 'seed-wait', held };
  }
  if (held.down < limits.down) return { state: 'downloading', held: { down: held.down + 1, up: held.up } };
  return newcomer.running ? undefined : { state: 'download-wait', held };
}
