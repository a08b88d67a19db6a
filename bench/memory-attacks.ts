/**
 * Peak RSS under the withheld-block attack of issue 15 ("one peer withholding
 * the last block of every 256 MiB piece drove RSS past 1 GB"), measured on a
 * Lodestone client in its own process with the CLI's Node flags and
 * environment. Investigation only (no targets, no CI):
 *
 *   node dist/bench/memory-attacks.js [--piece-length 256MiB] [--pieces 8] [--peers 1] [--idle 5]
 *
 * The hostile peers (in this process) claim every piece of a torrent with
 * random piece hashes and answer every request at once, except the last block
 * of each piece, which they never send. The client keeps requesting; the run
 * ends once the peers have sent nothing for `--idle` seconds (the client holds
 * all it will hold) or after 90 s, and the client reports its VmHWM and the
 * most array-buffer memory (where piece buffers live) it sampled every 100 ms.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { encode } from '../src/bencode/index.js';
import { CLI_NODE_ENV, CLI_NODE_FLAGS } from '../src/cli/node-flags.js';
import { fullBitfield, type HostilePeer, startHostilePeer } from '../test/helpers/hostile-peer.js';
import { delay, MiB, parseSize } from './measure.js';

const CHILD = `
const [clientUrl, metainfoUrl] = process.argv.slice(2);
const { Client } = await import(clientUrl);
const { parseTorrent } = await import(metainfoUrl);
const { readFileSync } = await import('node:fs');
const meta = parseTorrent(Buffer.from(process.env.ATTACK_TORRENT, 'base64'));
const client = new Client({ port: 0, bindAddress: '127.0.0.1' });
await client.listen();
const session = client.add(meta, {
  path: process.env.ATTACK_DIR,
  useTrackers: false,
  peers: JSON.parse(process.env.ATTACK_PEERS),
});
let peakArrayBuffers = 0;
setInterval(() => {
  peakArrayBuffers = Math.max(peakArrayBuffers, process.memoryUsage().arrayBuffers);
}, 100);
await session.start();
process.stdin.setEncoding('utf8').on('data', () => {
  const status = readFileSync('/proc/self/status', 'utf8');
  const kib = (field) => Number(new RegExp('^' + field + ':\\\\s+(\\\\d+)\\\\s+kB', 'm').exec(status)[1]);
  process.stdout.write(JSON.stringify({ vmHwmKiB: kib('VmHWM'), rssAnonKiB: kib('RssAnon'), peakArrayBuffers }));
  process.exit(0);
});
`;

const { values } = parseArgs({
  options: {
    'piece-length': { type: 'string' },
    pieces: { type: 'string' },
    peers: { type: 'string' },
    idle: { type: 'string' },
  },
});
const pieceLength = parseSize(values['piece-length'] ?? '256MiB');
const pieceCount = Number(values.pieces ?? 8);
const peerCount = Number(values.peers ?? 1);
const idleMs = Number(values.idle ?? 5) * 1000;
const BLOCK = 16 * 1024;
const zeros = Buffer.alloc(BLOCK);

const root = await mkdtemp(join(tmpdir(), 'lodestone-withheld-'));
const peers: HostilePeer[] = [];
let child: ReturnType<typeof spawn> | undefined;
let lastBlockAt = Date.now();
let blocksSent = 0;
let withheld = 0;
try {
  const info = encode({
    name: 'withheld.bin',
    'piece length': pieceLength,
    pieces: randomBytes(20 * pieceCount),
    length: pieceLength * pieceCount,
  });
  const infoHash = createHash('sha1').update(info).digest();
  const torrent = Buffer.concat([Buffer.from('d4:info'), info, Buffer.from('e')]);
  for (let i = 0; i < peerCount; i++) {
    peers.push(
      await startHostilePeer({
        host: `127.0.66.${i + 1}`,
        infoHash,
        onConnected(peer) {
          peer.send({ type: 'bitfield', bits: fullBitfield(pieceCount) });
          peer.send({ type: 'unchoke' });
        },
        onMessage(message, peer) {
          if (message.type !== 'request') return;
          if (message.begin + message.length >= pieceLength) {
            withheld++; // the last block of the piece: never sent
            return;
          }
          blocksSent++;
          lastBlockAt = Date.now();
          peer.answer(message.index, message.begin, zeros.subarray(0, message.length));
        },
      }),
    );
  }
  const script = join(root, 'leech.mjs');
  await writeFile(script, CHILD);
  child = spawn(
    process.execPath,
    [
      ...CLI_NODE_FLAGS,
      script,
      new URL('../src/session/client.js', import.meta.url).href,
      new URL('../src/metainfo/index.js', import.meta.url).href,
    ],
    {
      env: {
        ...process.env,
        ...CLI_NODE_ENV,
        ATTACK_TORRENT: torrent.toString('base64'),
        ATTACK_DIR: join(root, 'leech'),
        ATTACK_PEERS: JSON.stringify(peers.map((peer) => peer.address)),
      },
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  let stdout = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  const closed = new Promise<void>((resolve) => child!.once('close', () => resolve()));
  const started = Date.now();
  while (Date.now() - started < 90_000 && (blocksSent === 0 || Date.now() - lastBlockAt < idleMs)) {
    await delay(250);
  }
  child.stdin!.write('report\n');
  await Promise.race([closed, delay(10_000)]);
  const report = JSON.parse(stdout) as { vmHwmKiB: number; rssAnonKiB: number; peakArrayBuffers: number };
  process.stdout.write(
    `${JSON.stringify({
      pieceLength: `${pieceLength / MiB} MiB`,
      pieces: pieceCount,
      hostilePeers: peerCount,
      seconds: (Date.now() - started) / 1000,
      blocksSent,
      lastBlocksWithheld: withheld,
      peakRssMiB: +(report.vmHwmKiB / 1024).toFixed(1),
      rssAnonAtEndMiB: +(report.rssAnonKiB / 1024).toFixed(1),
      peakArrayBuffersMiB: +(report.peakArrayBuffers / MiB).toFixed(1),
    })}\n`,
  );
} finally {
  if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
    process.kill(child.pid, 'SIGKILL');
  }
  await Promise.all(peers.map((peer) => peer.close()));
  await rm(root, { recursive: true, force: true });
}
