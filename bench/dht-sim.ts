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
import { DhtSim } from '../test/helpers/dht-sim.js';

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

const isMain = process.argv[1]?.endsWith('dht-sim.js');
if (isMain) {
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
