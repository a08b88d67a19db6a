/** fast-check generators of KRPC messages (valid ones, as our encoder writes them) for the DHT tests. */
import fc from 'fast-check';
import { formatIp } from '../../src/dht/compact.js';
import type { KrpcMessage, NodeContact, WantFamily } from '../../src/dht/messages.js';

const bytes = (min: number, max: number): fc.Arbitrary<Uint8Array> =>
  fc.uint8Array({ minLength: min, maxLength: max }).map((b) => Uint8Array.from(b));
export const arbId = bytes(20, 20);
const arbTid = bytes(0, 16);
const arbPort = fc.integer({ min: 1, max: 65535 });
const arbV6 = bytes(16, 16).map((raw) => formatIp(raw, 0, 6));
export const arbHost4 = fc.ipV4();
export const arbPeer = fc.record({ host: fc.oneof(arbHost4, arbV6), port: arbPort }).map((p) => ({ ...p }));
const arbNodes = (host: fc.Arbitrary<string>): fc.Arbitrary<NodeContact[]> =>
  fc.array(
    fc.record({ id: arbId, host, port: arbPort }).map((n) => ({ ...n })),
    { maxLength: 8 },
  );
const arbWant = fc.uniqueArray(fc.constantFrom<WantFamily>('n4', 'n6'), { maxLength: 2 });
const base = fc.record({
  tid: arbTid,
  id: arbId,
  readOnly: fc.boolean(),
  version: fc.option(bytes(0, 8), { nil: undefined }),
});
const strip = <T extends object>(value: T): T =>
  Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;

/** Any message our encoder can write; optional fields are absent rather than undefined. */
export const arbKrpcMessage: fc.Arbitrary<KrpcMessage> = fc.oneof(
  base.map((b) => strip({ kind: 'query' as const, method: 'ping' as const, ...b })),
  fc
    .tuple(base, arbId, fc.option(arbWant, { nil: undefined }))
    .map(([b, target, want]) =>
      strip({ kind: 'query' as const, method: 'find_node' as const, ...b, target, want }),
    ),
  fc
    .tuple(base, arbId, fc.option(arbWant, { nil: undefined }))
    .map(([b, infoHash, want]) =>
      strip({ kind: 'query' as const, method: 'get_peers' as const, ...b, infoHash, want }),
    ),
  fc.tuple(base, arbId, arbPort, fc.boolean(), bytes(0, 20)).map(([b, infoHash, port, impliedPort, token]) =>
    strip({
      kind: 'query' as const,
      method: 'announce_peer' as const,
      ...b,
      infoHash,
      port,
      impliedPort,
      token,
    }),
  ),
  fc
    .tuple(base, fc.stringMatching(/^[a-z_]{1,20}$/))
    .filter(([, name]) => !['ping', 'find_node', 'get_peers', 'announce_peer'].includes(name))
    .map(([b, name]) => strip({ kind: 'query' as const, method: 'unknown' as const, ...b, name })),
  fc
    .record(
      {
        tid: arbTid,
        id: arbId,
        nodes: arbNodes(arbHost4),
        nodes6: arbNodes(arbV6),
        values: fc.array(arbPeer, { maxLength: 20 }),
        token: bytes(0, 20),
        ip: arbPeer,
        version: bytes(0, 8),
      },
      { requiredKeys: ['tid', 'id'] },
    )
    .map((r) => ({ kind: 'response' as const, ...r })),
  fc
    .record(
      {
        tid: arbTid,
        code: fc.integer({ min: 0, max: 999 }),
        message: fc.stringMatching(/^[ -~]{0,100}$/),
        ip: arbPeer,
      },
      { requiredKeys: ['tid', 'code', 'message'] },
    )
    .map((e) => ({ kind: 'error' as const, ...e })),
);
