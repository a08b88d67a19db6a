import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type TrackerServer from 'bittorrent-tracker/server';
import { createTorrent, LodestoneError } from '../../index.js';
import { formatBytes } from '../../metainfo/index.js';
import { ExitCode } from '../exit-codes.js';
import { CLI_NODE_ENV, CLI_NODE_FLAGS } from '../node-flags.js';
import { parseSize } from '../options.js';
import { downloadCommand } from './download.js';

export interface DemoOptions {
  size: string;
  /** Commander's `--no-keep` sets this to false: then the downloaded copy is removed too. */
  keep?: boolean;
  quiet?: boolean;
}

const SEEDER_ADDRESS = '127.0.0.2';
const LEECHER_ADDRESS = '127.0.0.3';
const TRACKER_ADDRESS = '127.0.0.1';

/**
 * `lodestone demo`: the main job, offline. A loopback swarm of our own (a
 * tracker from the bittorrent-tracker package and a Lodestone seeder process
 * on 127.0.0.2), then an ordinary `lodestone download` of generated
 * multi-file content, a byte-for-byte check, and cleanup of everything started.
 */
export async function demoCommand(options: DemoOptions): Promise<number> {
  const size = parseSize(options.size, '--size');
  const root = await mkdtemp(join(tmpdir(), 'lodestone-demo-'));
  const say = (text: string): void => {
    if (!options.quiet) process.stdout.write(`${text}\n`);
  };
  let tracker: TrackerServer | undefined;
  let seeder: ChildProcess | undefined;
  let succeeded = false;
  try {
    say(`demo: generating ${formatBytes(size)} of random content in ${root}`);
    const files = await generateContent(join(root, 'seed', 'demo-content'), size);
    tracker = await startTracker();
    const announce = `http://${TRACKER_ADDRESS}:${tracker.http.address().port}/announce`;
    const { meta, torrent } = await createTorrent(join(root, 'seed', 'demo-content'), {
      trackers: [[announce]],
    });
    const torrentPath = join(root, 'demo.torrent');
    await writeFile(torrentPath, torrent);
    say(
      `demo: tracker on ${announce}; torrent ${meta.infoHashHex} (${meta.pieceCount} pieces of ${formatBytes(meta.pieceLength)})`,
    );

    const announced = waitForAnnounce(tracker, meta.infoHashHex);
    seeder = spawn(
      process.execPath,
      [
        ...CLI_NODE_FLAGS,
        process.argv[1]!,
        'seed',
        torrentPath,
        join(root, 'seed'),
        '--bind',
        SEEDER_ADDRESS,
        '--port',
        '0',
        '--quiet',
        '--no-dht', // offline: a loopback swarm, never the public DHT
      ],
      {
        env: { ...process.env, ...CLI_NODE_ENV },
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    await Promise.race([announced, exitOf(seeder).then((code) => Promise.reject(seederFailed(code)))]);
    say(
      `demo: Lodestone seeder (pid ${seeder.pid}) is seeding on ${SEEDER_ADDRESS}; downloading with lodestone download`,
    );

    const output = join(root, 'download');
    const code = await downloadCommand(torrentPath, {
      output,
      port: '0',
      bind: LEECHER_ADDRESS,
      maxPeers: '50',
      trackers: true,
      dht: false, // offline, as the seeder
      ...(options.quiet ? { quiet: true } : {}),
    });
    if (code !== ExitCode.ok) return code;
    for (const file of files) {
      const copy = join(output, 'demo-content', file.name);
      if (!(await sameContent(file.path, copy))) {
        throw new LodestoneError('LODESTONE_ERR_IO', `demo: ${copy} differs from the original`);
      }
    }
    succeeded = true;
    say(`demo: all ${files.length} files verified byte for byte against the originals`);
    if (options.keep !== false) {
      say(`demo: the download is in ${join(output, 'demo-content')} (remove it with rm -r ${root})`);
    }
    return ExitCode.ok;
  } finally {
    if (seeder && seeder.exitCode === null) {
      seeder.kill('SIGTERM');
      const forced = setTimeout(() => seeder?.kill('SIGKILL'), 3000);
      await exitOf(seeder);
      clearTimeout(forced);
    }
    if (tracker) await new Promise<void>((resolve) => tracker!.close(() => resolve()));
    if (options.keep !== false && succeeded) {
      // Keep only the downloaded copy: the seeder's data and the torrent were props.
      await rm(join(root, 'seed'), { recursive: true, force: true });
      await rm(join(root, 'demo.torrent'), { force: true });
    } else {
      await rm(root, { recursive: true, force: true });
    }
  }
}

async function generateContent(dir: string, size: number): Promise<{ name: string; path: string }[]> {
  // A few files of uneven sizes so pieces straddle file boundaries.
  const shares = [0.5, 0.3, 0.2 - 1 / 1024, 1 / 1024];
  const names = ['video.bin', 'extras/audio.bin', 'extras/notes/readme.bin', 'cover.bin'];
  const files: { name: string; path: string }[] = [];
  let left = size;
  for (let i = 0; i < names.length; i++) {
    const length = i === names.length - 1 ? left : Math.min(left, Math.floor(size * shares[i]!) + 7 * i);
    left -= length;
    const path = join(dir, names[i]!);
    await mkdir(join(path, '..'), { recursive: true });
    const handle = await open(path, 'w');
    try {
      for (let written = 0; written < length; ) {
        const chunk = randomBytes(Math.min(4 * 1024 * 1024, length - written));
        await handle.write(chunk);
        written += chunk.length;
      }
    } finally {
      await handle.close();
    }
    files.push({ name: names[i]!, path });
  }
  return files;
}

async function startTracker(): Promise<TrackerServer> {
  // Loaded only here: the tracker server is a demo prop, not part of the client. It is a
  // devDependency: the command bundle carries it as dist/cli/demo-tracker.js (see
  // scripts/bundle-cli.mjs), so installing the library never pulls in its 45 packages.
  const { default: Server } = await import('bittorrent-tracker/server');
  return new Promise((resolve, reject) => {
    const server = new Server({ udp: false, http: true, ws: false, stats: false, trustProxy: false });
    server.once('error', reject);
    server.on('warning', () => undefined);
    server.listen(0, TRACKER_ADDRESS, () => {
      server.off('error', reject);
      server.on('error', () => undefined);
      resolve(server);
    });
  });
}

function waitForAnnounce(tracker: TrackerServer, infoHashHex: string): Promise<void> {
  return new Promise((resolve) => {
    const check = (): void => {
      const swarm = tracker.torrents[infoHashHex];
      if (swarm && swarm.complete > 0) {
        tracker.off('start', check);
        tracker.off('update', check);
        resolve();
      }
    };
    tracker.on('start', check);
    tracker.on('update', check);
  });
}

function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

function seederFailed(code: number | null): LodestoneError {
  return new LodestoneError('LODESTONE_ERR_IO', `demo: the seeder process exited early (code ${code})`);
}

async function sameContent(a: string, b: string): Promise<boolean> {
  const digest = async (path: string): Promise<string> => {
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
    return hash.digest('hex');
  };
  return (await digest(a)) === (await digest(b));
}
