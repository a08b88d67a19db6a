/**
 * Worker side of KeystreamPool: RC4 keystream generated ahead into shared rings (layout in
 * keystream-ring.ts), so the main thread only XORs. Message-driven: it fills every open ring
 * until the ring is full, then waits for a 'more' (the main thread released blocks). Work is
 * done a few blocks at a time with setImmediate in between, so 'close' and 'more' messages
 * are seen promptly.
 */
import { parentPort } from 'node:worker_threads';
import {
  CLOSED,
  CONSUMED,
  type KeystreamRequest,
  PRODUCED,
  type RingShape,
  ringViews,
} from './keystream-ring.js';
import { RC4_STATE_LENGTH, Rc4 } from './rc4.js';

/** Blocks generated per turn before yielding to the message queue. */
const BLOCKS_PER_TURN = 8;

interface OpenRing {
  views: ReturnType<typeof ringViews>;
  shape: RingShape;
  rc4: Rc4;
  /** Blocks generated so far (the worker's own copy of PRODUCED). */
  produced: number;
}

if (parentPort) {
  const port = parentPort;
  const rings = new Map<number, OpenRing>();
  let scheduled = false;

  /** Whether the ring has a free slot for its next block. */
  const hasRoom = (ring: OpenRing): boolean =>
    Atomics.load(ring.views.control, CLOSED) === 0 &&
    ring.produced - Atomics.load(ring.views.control, CONSUMED) < ring.shape.blocks;

  const produceOne = (ring: OpenRing): void => {
    const { blockSize, blocks } = ring.shape;
    const slot = ring.produced % blocks;
    ring.rc4.copyState(ring.views.states, slot * RC4_STATE_LENGTH);
    const start = slot * blockSize;
    // RC4 XORs in place: over zeros it leaves the keystream itself.
    ring.views.keystream.fill(0, start, start + blockSize);
    ring.rc4.process(ring.views.keystream, start, start + blockSize);
    ring.produced++;
    Atomics.store(ring.views.control, PRODUCED, ring.produced);
  };

  /** One block per ring per pass (round robin), at most BLOCKS_PER_TURN blocks in all. */
  const turn = (): void => {
    scheduled = false;
    let budget = BLOCKS_PER_TURN;
    let progress = true;
    while (budget > 0 && progress) {
      progress = false;
      for (const ring of rings.values()) {
        if (budget > 0 && hasRoom(ring)) {
          produceOne(ring);
          budget--;
          progress = true;
        }
      }
    }
    for (const ring of rings.values()) {
      if (hasRoom(ring)) {
        schedule();
        return;
      }
    }
  };

  const schedule = (): void => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(turn);
  };

  port.on('message', (request: KeystreamRequest) => {
    if (request.type === 'open') {
      rings.set(request.id, {
        views: ringViews(request.buffer, request.shape),
        shape: request.shape,
        rc4: Rc4.fromState(request.state),
        produced: 0,
      });
    } else if (request.type === 'close') {
      rings.delete(request.id);
    }
    schedule();
  });
}
