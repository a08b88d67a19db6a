/**
 * Where the DHT row's Lodestone time goes (bench/dht-row.ts's network): the CLI
 * (`lodestone download <magnet> --dht-bootstrap <node> --json`) started cold, `rounds` times, and
 * the time from its spawn to each `--json` event it prints (the events' own `time` stamps, ms):
 * `metadata-start` comes once `client.listen()` returned (node start, bundle load, sockets), then
 * `peer-connected` (DHT lookup, dial, handshakes) and `metadata-done`.
 *
 *   node dist/bench/dht-phases.js [rounds=5]
 *
 * Prints one line per round and the medians. Not part of `npm run bench` (the row is).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { safeCliArgs } from '../test/helpers/cli-args.js';
import { runCli } from '../test/helpers/lodestone-cli.js';
import { Cleanups, lodestoneDownloadArgs, median, startDhtRowNetwork } from './dht-row.js';

const PHASES = ['metadata-start', 'dht-ready', 'peer-connected', 'metadata-done'] as const;

export async function dhtPhases(rounds: number, log: (line: string) => void): Promise<Map<string, number[]>> {
  const owner = new Cleanups();
  const root = await mkdtemp(join(tmpdir(), 'lodestone-dht-phases-'));
  owner.after(() => rm(root, { recursive: true, force: true }));
  const times = new Map<string, number[]>(PHASES.map((phase) => [phase, []]));
  try {
    const { entry, meta } = await startDhtRowNetwork(owner, root);
    for (let round = 0; round < rounds; round++) {
      const dir = await mkdtemp(join(root, 'cli-'));
      const spawned = Date.now();
      // runCli applies safeCliArgs too; called here so the guard is visible where the bench spawns it.
      const run = runCli(safeCliArgs(lodestoneDownloadArgs(entry, meta.infoHashHex, dir)));
      try {
        await run.waitFor((event) => event.type === 'metadata-done', 20_000);
      } finally {
        await run.stop();
      }
      const line: string[] = [];
      for (const phase of PHASES) {
        const event = run.events.find((e) => e.type === phase && typeof e.time === 'string');
        if (!event) continue;
        const ms = new Date(event.time as string).getTime() - spawned;
        times.get(phase)!.push(ms);
        line.push(`${phase} ${ms}`);
      }
      log(`round ${round}: ${line.join(', ')}`);
    }
    return times;
  } finally {
    await owner.run();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const rounds = Number(process.argv[2] ?? 5);
  const times = await dhtPhases(rounds, (line) => process.stdout.write(`${line}\n`));
  for (const [phase, values] of times)
    process.stdout.write(`median spawn → ${phase}: ${median(values) ?? '—'} ms (${values.length} rounds)\n`);
  process.exit(0);
}
