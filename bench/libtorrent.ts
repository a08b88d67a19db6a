/**
 * python3-libtorrent (libtorrent-rasterbar 2.0, Debian's `/usr/bin/python3`)
 * as a benchmark leecher: one session on its own loopback address with DHT,
 * LSD, UPnP and NAT-PMP off, downloading a .torrent into a fresh folder. The
 * script prints one JSON line when every piece is verified (`is_seeding`),
 * with the wall-clock time, then idles until its stdin closes so that its
 * process can be sampled (CPU, VmHWM) before it is stopped by PID.
 *
 * uTP is off (TCP only, like aria2 and Lodestone): by default libtorrent
 * dials uTP first and waits about 4 s before falling back to TCP. The uTP row
 * asks for the opposite (`transport: 'utp'`): uTP only, TCP off both ways.
 *
 * libtorrent 2.0 reads and writes through memory-mapped files: pages of the
 * downloaded files it touched count in its RSS (RssFile), so its peak RSS is
 * not anonymous memory alone (the report says so).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { LIBTORRENT_PYTHON } from '../test/helpers/tools.js';
import { BenchError } from './measure.js';

let found: boolean | undefined;

/** Whether LIBTORRENT_PYTHON can `import libtorrent`. */
export function libtorrentAvailable(): boolean {
  found ??=
    spawnSync(LIBTORRENT_PYTHON, ['-c', 'import libtorrent'], { stdio: 'ignore', timeout: 10_000 }).status ===
    0;
  return found;
}

const SCRIPT = `
import json, sys, time
import libtorrent as lt
torrent, out, address = sys.argv[1], sys.argv[2], sys.argv[3]
peers = json.loads(sys.argv[4])
transport = sys.argv[5]
encryption = sys.argv[6]
settings = {
  'listen_interfaces': address + ':0',
  'outgoing_interfaces': address,
  'enable_dht': False, 'enable_lsd': False, 'enable_upnp': False, 'enable_natpmp': False,
  'alert_mask': 0,
}
if transport == 'utp':
  # The uTP row: TCP off both ways, as its uTP-only seeder.
  settings.update({'enable_outgoing_tcp': False, 'enable_incoming_tcp': False,
                   'enable_outgoing_utp': True, 'enable_incoming_utp': True})
else:
  # TCP only, like the other leechers: by default libtorrent tries uTP first and falls back to
  # TCP only after a timeout (~4 s against a seeder with uTP off, as the bench's are).
  settings.update({'enable_outgoing_utp': False, 'enable_incoming_utp': False})
if encryption == 'require':
  # The encryption row's reference leecher: MSE with RC4 only, both ways (pe_forced, pe_rc4).
  settings.update({'out_enc_policy': 0, 'in_enc_policy': 0, 'allowed_enc_level': 2})
elif encryption == 'disable':
  # Its plaintext control: no MSE at all (pe_disabled).
  settings.update({'out_enc_policy': 2, 'in_enc_policy': 2})
s = lt.session(settings)
atp = lt.add_torrent_params()
atp.ti = lt.torrent_info(torrent)
atp.save_path = out
h = s.add_torrent(atp)
for host, port in peers:
  h.connect_peer((host, port))
print(json.dumps({'event': 'added', 'ms': time.time() * 1000}), flush=True)
while True:
  st = h.status()
  if st.errc.value() != 0:
    print(json.dumps({'event': 'error', 'message': st.errc.message()}), flush=True)
    break
  if st.is_seeding:
    print(json.dumps({'event': 'done', 'ms': time.time() * 1000}), flush=True)
    break
  time.sleep(0.02)
sys.stdin.read()
`;

export interface LibtorrentLeecher {
  pid: number;
  /** Resolves with the wall-clock time (ms since the epoch) every piece was verified. */
  done: Promise<number>;
  stop(): Promise<void>;
}

/** Starts the leecher; `peers` are dialled at once (the tracker in the torrent is used too). */
export function startLibtorrentLeecher(options: {
  torrentPath: string;
  outDir: string;
  address: string;
  peers: { host: string; port: number }[];
  /** 'utp': uTP only, TCP off both ways (the uTP row). @default 'tcp' (TCP only) */
  transport?: 'tcp' | 'utp';
  /** The encryption row: 'require' (RC4 only, both ways) or 'disable' (no MSE). @default libtorrent's own */
  encryption?: 'require' | 'disable';
}): LibtorrentLeecher {
  const child: ChildProcess = spawn(
    LIBTORRENT_PYTHON,
    [
      '-c',
      SCRIPT,
      options.torrentPath,
      options.outDir,
      options.address,
      JSON.stringify(options.peers.map((peer) => [peer.host, peer.port])),
      options.transport ?? 'tcp',
      options.encryption ?? 'default',
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  if (child.pid === undefined) throw new BenchError(`could not start ${LIBTORRENT_PYTHON}`);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-2000);
  });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const done = new Promise<number>((resolve, reject) => {
    let partial = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      partial += chunk;
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        let event: { event?: string; ms?: number; message?: string };
        try {
          event = JSON.parse(line) as typeof event;
        } catch {
          continue;
        }
        if (event.event === 'done') resolve(Number(event.ms));
        if (event.event === 'error') reject(new BenchError(`libtorrent failed: ${event.message}`));
      }
    });
    child.once('close', (code, signal) =>
      reject(new BenchError(`libtorrent exited (${signal ?? code}) before completing: ${stderr.trim()}`)),
    );
  });
  done.catch(() => {}); // observed by the caller; never an unhandled rejection
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    })();
    return stopping;
  };
  return { pid: child.pid, done, stop };
}
