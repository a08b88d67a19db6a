/**
 * announce_peer (BEP 5) to the nodes a get_peers lookup chose (family-results.ts
 * `announceTargets`), for a `DhtNode`. Pure: queries go through the node.
 */
import type { RespondedNode } from './lookup.js';
import type { Handler } from './lookup-driver.js';
import type { NodeId } from './node-id.js';

export interface AnnounceBody {
  method: 'announce_peer';
  infoHash: NodeId;
  port: number;
  impliedPort: boolean;
}

/**
 * Sends `body` with each target's token; resolves with how many acknowledged. One that times out
 * is sent once more: one lost datagram (either way) must not cost one of the few nodes that store
 * us (with 10 % loss each way, ~19 % of single tries fail). `query` returns false when nothing was
 * sent; no retry once `closed()`.
 */
export async function announceTo(
  targets: readonly RespondedNode[],
  body: AnnounceBody,
  query: (to: RespondedNode, body: AnnounceBody & { token: Uint8Array }, handler: Handler) => boolean,
  closed: () => boolean,
): Promise<number> {
  const acks = await Promise.all(
    targets.map(
      (node) =>
        new Promise<boolean>((resolve) => {
          const send = (triesLeft: number): void => {
            const sent = query(
              node,
              { ...body, token: node.token! },
              {
                response: () => resolve(true),
                error: () => resolve(false),
                timeout: () => (triesLeft > 0 && !closed() ? send(triesLeft - 1) : resolve(false)),
              },
            );
            if (!sent) resolve(false);
          };
          send(1);
        }),
    ),
  );
  return acks.filter(Boolean).length;
}
