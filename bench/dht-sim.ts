/**
 * The simulated DHT at scale (issue 17's benchmark): lookup rounds and messages, the share of
 * lookups that find the 8 truly closest nodes, with and without loss, and the memory of one
 * node's routing table. No sockets; a seeded simulation on a simulated clock.
 *
 *   node dist/bench/dht-sim.js [nodes=10000] [lookups=200] [seed=1] [maxAttempts=4] [churn=0.05]
 *
 * Churn: that share of the nodes leaves (staying in others' tables) and as many new ones join just
 * before the lookups; the "true closest 8" are taken among the nodes online then, newcomers included.
 */
import { DhtNode } from '../src/dht/dht-node.js';
import type { KrpcQuery } from '../src/dht/messages.js';
import { randomIdWithPrefix } from '../src/dht/node-id.js';
import { bytesFrom, DhtSim, seededFloat } from '../test/helpers/dht-sim.js';
import { FakeClock } from '../test/helpers/fake-clock.js';

export interface SimFigures {
  nodes: number;
  loss: number;
  lookups: number;
  medianRounds: number;
  p99Rounds: number;
  medianMessages: number;
  p99Messages: number;
  foundTrue8: number;
  medianSimMs: number;
  /** Datagrams per node spent joining. */
  joinDatagramsPerNode: number;
  routingTableNodes: number;
  routingTableBytes: number;
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

/** Builds a network of `nodes`, churns `churn` of it, then runs `lookups` get_peers lookups from random nodes to random targets. */
export async function simulate(options: {
  nodes: number;
  lookups: number;
  loss: number;
  churn?: number;
  seed: number;
  maxAttempts?: number;
}): Promise<SimFigures> {
  const sim = new DhtSim({
    seed: options.seed,
    loss: options.loss,
    node: { refreshOnBootstrap: process.env.DHT_SIM_REFRESH === '1', maxAttempts: options.maxAttempts ?? 4 },
  });
  await sim.grow(options.nodes, { spacingMs: 2 });
  const joinDatagrams = sim.sent;
  const churn = options.churn ?? 0;
  if (churn > 0) {
    const leaving = Math.round(options.nodes * churn);
    for (let i = 0; i < leaving; i++) sim.kill(sim.pick());
    await sim.grow(leaving, { spacingMs: 2 });
  }
  const rounds: number[] = [];
  const messages: number[] = [];
  const durations: number[] = [];
  let found = 0;
  for (let i = 0; i < options.lookups; i++) {
    const from = sim.pick();
    const target = sim.random(20);
    const started = sim.clock.now();
    const result = (await sim.run(from.node.getPeers(target)))!;
    durations.push(sim.clock.now() - started);
    rounds.push(result.rounds);
    messages.push(result.queries);
    const truth = new Set(sim.trueClosest(target, 8, from).map((node) => node.host));
    if (result.nodes.length === 8 && result.nodes.every((node) => truth.has(node.host))) found++;
  }
  const probe = sim.pick().node;
  return {
    nodes: options.nodes,
    loss: options.loss,
    lookups: options.lookups,
    medianRounds: quantile(rounds, 0.5),
    p99Rounds: quantile(rounds, 0.99),
    medianMessages: quantile(messages, 0.5),
    p99Messages: quantile(messages, 0.99),
    foundTrue8: found / options.lookups,
    medianSimMs: quantile(durations, 0.5),
    joinDatagramsPerNode: joinDatagrams / options.nodes,
    routingTableNodes: probe.table.size,
    routingTableBytes: probe.table.memoryBytes(),
  };
}

export interface NodeMemory {
  routingTableNodes: number;
  buckets: number;
  storedPeers: number;
  /** The node's own estimate (DhtNode.memoryBytes). */
  estimatedBytes: number;
  /** Heap growth measured around building it (only with node --expose-gc). */
  measuredHeapBytes: number | undefined;
}

/**
 * One node with a full routing table (every bucket and replacement cache it can fill from 200,000
 * random contacts plus near ones) and `peers` peers stored through real get_peers + announce_peer
 * queries (100 info-hashes, each announcer on its own address, paced under the global rate limit).
 */
export function nodeMemory(peers = 10_000, seed = 7): NodeMemory {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = process.memoryUsage().heapUsed;
  const clock = new FakeClock();
  const random = bytesFrom(seededFloat(seed));
  const replies: { tid: Uint8Array; token?: Uint8Array }[] = [];
  const node = new DhtNode({
    clock,
    random,
    send: (message) => {
      if (message.kind === 'response')
        replies.push(message.token ? { tid: message.tid, token: message.token } : { tid: message.tid });
    },
    refreshCheckMs: 1e12,
  });
  const host = (i: number): string => `10.${(i >> 16) & 0xff}.${(i >> 8) & 0xff}.${i & 0xff}`;
  let hosts = 1;
  for (let i = 0; i < 200_000; i++)
    node.table.heard({ id: random(20), host: host(hosts++), port: 6881 }, true, 0);
  for (let prefix = 0; prefix < 40; prefix++)
    for (let i = 0; i < 16; i++)
      node.table.heard(
        { id: randomIdWithPrefix(node.id, prefix, random), host: host(hosts++), port: 6881 },
        true,
        0,
      );
  const infoHashes = Array.from({ length: 100 }, () => random(20));
  for (let i = 0; i < peers; i++) {
    const from = { host: `172.${16 + ((i >> 16) & 0xf)}.${(i >> 8) & 0xff}.${i & 0xff}`, port: 6881 };
    const infoHash = infoHashes[i % infoHashes.length]!;
    clock.advance(10); // two queries per 10 ms: under the responder's global rate (250/s)
    const base = { kind: 'query' as const, tid: Uint8Array.of(i & 0xff), id: random(20), readOnly: true };
    node.receive({ ...base, method: 'get_peers', infoHash } as KrpcQuery, from, 100);
    const token = replies.pop()?.token;
    if (!token) continue;
    node.receive(
      { ...base, method: 'announce_peer', infoHash, port: 6881, impliedPort: false, token } as KrpcQuery,
      from,
      120,
    );
  }
  gc?.();
  const after = process.memoryUsage().heapUsed;
  const figures: NodeMemory = {
    routingTableNodes: node.table.size,
    buckets: node.table.bucketCount(4),
    storedPeers: node.stats().storedPeers,
    estimatedBytes: node.memoryBytes(),
    measuredHeapBytes: gc ? after - before : undefined,
  };
  node.close();
  return figures;
}

const isMain = process.argv[1]?.endsWith('dht-sim.js');
if (isMain) {
  process.stdout.write(`${JSON.stringify({ nodeMemory: nodeMemory() })}\n`);
  const nodes = Number(process.argv[2] ?? 10_000);
  const lookups = Number(process.argv[3] ?? 200);
  const seed = Number(process.argv[4] ?? 1);
  const maxAttempts = Number(process.argv[5] ?? 4);
  const churn = Number(process.argv[6] ?? 0.05);
  for (const loss of [0, 0.1]) {
    const started = performance.now();
    const figures = await simulate({ nodes, lookups, loss, churn, seed, maxAttempts });
    const kademlia = Math.log2(nodes) / 1; // b = 1: one bit closer per hop
    process.stdout.write(
      `${JSON.stringify({ ...figures, churn, maxAttempts, kademliaRounds: Number(kademlia.toFixed(1)), wallMs: Math.round(performance.now() - started) })}\n`,
    );
  }
}
