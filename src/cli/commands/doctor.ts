import { Client, doctorVerdict, type EncryptionPolicy } from '../../index.js';
import { type DhtFlags, dhtClientOption } from '../dht-options.js';
import { formatDoctorReport } from '../doctor-output.js';
import { ExitCode } from '../exit-codes.js';
import { parseDuration, parsePeers, parsePort } from '../options.js';
import { loadSource } from '../source.js';

export interface DoctorOptions extends DhtFlags {
  /** `--time`: the hard bound on the probe. @default '30s' */
  time: string;
  port: string;
  bind?: string;
  peer?: string[];
  trackers: boolean;
  encryption?: EncryptionPolicy;
  /** `--no-utp` makes it false. */
  utp?: boolean;
  json?: boolean;
}

/** (See docs/doctor.md.) Connect and handshake timeouts per peer, and how long a connected peer is listened to. */
const CONNECT_TIMEOUT_MS = 10_000;
const OBSERVE_MS = 3000;

/**
 * `lodestone doctor <torrent|magnet>`: runs the discovery for at most `--time` without
 * downloading, prints what each source and each peer did and a verdict. Exit 0 when peers with
 * the data (a magnet: the metadata) were reachable, ExitCode.unhealthy otherwise.
 */
export async function doctorCommand(source: string, options: DoctorOptions): Promise<number> {
  const loaded = await loadSource(source);
  const timeMs = parseDuration(options.time, '--time', { min: 1000 })!;
  const peers = parsePeers(options.peer);
  const client = new Client({
    port: parsePort(options.port),
    ...(options.bind ? { bindAddress: options.bind } : {}),
    ...(options.encryption ? { encryption: options.encryption } : {}),
    ...(options.utp === false ? { utp: false } : {}),
    // The DHT as in download (on by default), not for a private torrent (BEP 27).
    ...(loaded.kind === 'torrent' && loaded.meta.private ? {} : { dht: dhtClientOption(options) }),
  });
  const abort = new AbortController();
  const interrupt = (): void => abort.abort();
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  // The library's timers do not hold the process open; the probe's deadline must fire.
  const keepAlive = setInterval(() => {}, 1000);
  try {
    await client.listen();
    if (!options.json) process.stderr.write(`probing for up to ${options.time} (no data is downloaded)…\n`);
    const report = await client.probeDiscovery(
      {
        target: loaded,
        timeMs,
        peers,
        useTrackers: options.trackers !== false,
        connectTimeoutMs: Math.min(CONNECT_TIMEOUT_MS, timeMs),
        handshakeTimeoutMs: Math.min(CONNECT_TIMEOUT_MS, timeMs),
        observeMs: Math.min(OBSERVE_MS, timeMs),
        ...(options.dht === false ? { dhtOffNote: 'off (--no-dht)' } : {}),
      },
      abort.signal,
    );
    const verdict = doctorVerdict(report);
    if (options.json)
      process.stdout.write(
        `${JSON.stringify({ type: 'doctor', time: new Date().toISOString(), ...report, verdict })}\n`,
      );
    else process.stdout.write(`${formatDoctorReport(report, verdict)}\n`);
    if (abort.signal.aborted) return ExitCode.interrupted;
    return verdict.ok ? ExitCode.ok : ExitCode.unhealthy;
  } finally {
    clearInterval(keepAlive);
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
    await client.close();
  }
}
