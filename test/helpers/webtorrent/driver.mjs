#!/usr/bin/env node
/**
 * Runs one WebTorrent client (the `webtorrent` library, v3) as a seeder or a
 * leecher, in its own process so its CPU, memory and event loop stay apart
 * from the test's. Plain JavaScript on purpose: tsc never compiles it, the
 * helper in index.ts finds it relative to the repository root.
 *
 * Usage: node driver.mjs '<json>' with
 *   mode         'seed' | 'leech'
 *   torrentPath  a .torrent file (seed: required; leech: this or magnet)
 *   magnet       a magnet link (leech only); metadata then comes from peers (ut_metadata)
 *   dir          seed: folder already holding the content; leech: where it goes
 *   address      loopback address to listen on and to connect/announce from (optional: all interfaces)
 *   port         TCP listen port (optional: 0, the kernel picks one)
 *   announce     tracker URLs that REPLACE the torrent's own (optional)
 *   peers        ['ip:port', …] dialled directly, besides what the tracker hands out
 *   encryption   0 plaintext only (default; Lodestone has no MSE), 1 MSE with fallback, 2 MSE only
 *   progressIntervalMs  how often progress lines are printed while they change (default 250)
 *
 * It prints one JSON object per line on stdout, each with `ms` (since the process started):
 *   {event:'ready', address, port}        listening
 *   {event:'metadata', infoHash, name, length, pieceCount}
 *   {event:'progress', downloaded, length} verified bytes so far
 *   {event:'done'}                        every piece verified (a seeder: it seeds from now on)
 *   {event:'announced'}                   a tracker answered an announce
 *   {event:'wire', addr, type}            a peer connection finished its handshake
 *   {event:'warning', message} · {event:'error', message} (then it exits with code 1)
 * It keeps running (seeding) after 'done' until SIGTERM/SIGINT.
 *
 * Nothing leaves loopback: DHT, local peer discovery (LSD), PEX, UPnP, NAT-PMP,
 * uTP, web seeds and WebRTC are off, and tracker URLs whose host is not a
 * loopback address are dropped (with a warning line).
 */
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';

const args = JSON.parse(process.argv[2] ?? '{}');

function emit(event, fields = {}) {
  // ms: time since this process started, for start-up and transfer timings.
  process.stdout.write(`${JSON.stringify({ event, ms: Math.round(performance.now()), ...fields })}\n`);
}

function fail(message) {
  emit('error', { message });
  process.exit(1);
}

process.on('uncaughtException', (error) => fail(`uncaught: ${error?.stack ?? error}`));
process.on('unhandledRejection', (error) => fail(`unhandled rejection: ${error?.stack ?? error}`));

if (args.mode !== 'seed' && args.mode !== 'leech') fail(`mode must be 'seed' or 'leech', got ${args.mode}`);
if (typeof args.dir !== 'string') fail('dir is required');
if ((args.torrentPath === undefined) === (args.magnet === undefined)) {
  fail('exactly one of torrentPath and magnet is required');
}
if (args.mode === 'seed' && args.torrentPath === undefined) fail('a seeder needs torrentPath');

const address = typeof args.address === 'string' ? args.address : undefined;
if (address !== undefined && !isLoopback(address)) fail(`address must be a loopback address, got ${address}`);

function isLoopback(host) {
  const bare = host.replace(/^\[|\]$/g, '');
  return bare === 'localhost' || bare === '::1' || /^127\.\d+\.\d+\.\d+$/.test(bare);
}

// WebTorrent has no option for the listen or source address. It reaches the
// network through these module objects at call time, so pinning the address
// here makes the tracker see (and hand out) exactly `address`, like the other
// real clients. Only this process is affected.
if (address !== undefined) {
  const createServer = net.createServer;
  net.createServer = (...rest) => {
    const server = createServer(...rest);
    const listen = server.listen;
    server.listen = (port, ...more) =>
      typeof port === 'number'
        ? listen.call(server, { port, host: address }, ...more)
        : listen.call(server, port, ...more);
    return server;
  };
  const connect = net.connect;
  net.connect = (options, ...more) =>
    typeof options === 'object' && options !== null && net.isIPv4(String(options.host))
      ? connect({ localAddress: address, ...options }, ...more)
      : connect(options, ...more);
  const createSocket = dgram.createSocket;
  dgram.createSocket = (...rest) => {
    const socket = createSocket(...rest);
    // Sends issued before the bind completes are queued by Node.
    if (socket.type === 'udp4') socket.bind({ port: 0, address });
    return socket;
  };
}

// cross-fetch-ponyfill (the HTTP tracker client's fetch) prefers the global
// fetch, which ignores `agent`. Without it, node-fetch is used and honours the
// agent below: our source address and one request per connection (opentracker
// answers one request per TCP connection, docs/interop.md, opentracker trap 2).
delete globalThis.fetch;
const httpAgent = new http.Agent({
  keepAlive: false,
  ...(address === undefined ? {} : { localAddress: address }),
});

const { default: WebTorrent } = await import('webtorrent');

const client = new WebTorrent({
  dht: false,
  lsd: false,
  utPex: false,
  natUpnp: false,
  natPmp: false,
  utp: false,
  webSeeds: false,
  // 'default': WebTorrent's own default (secure 1: every outgoing connection starts with MSE).
  ...(args.encryption === 'default' ? {} : { secure: Number(args.encryption ?? 0) }),
  torrentPort: Number(args.port ?? 0),
  tracker: { proxyOpts: { httpAgent } },
});
client.on('error', (error) => fail(`client: ${error?.message ?? error}`));

let stopping = false;
function stop() {
  if (stopping) return;
  stopping = true;
  // The `stopped` announce may hang on a dead tracker: do not wait forever.
  setTimeout(() => process.exit(0), 2000).unref();
  client.destroy(() => process.exit(0));
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

await new Promise((resolve) => (client.listening ? resolve() : client.once('listening', resolve)));
const bound = client.address();
emit('ready', { address: address ?? bound?.address, port: bound?.port });

const source = args.torrentPath !== undefined ? readFileSync(args.torrentPath) : args.magnet;
const torrent = client.add(source, { path: args.dir });

// The tracker hands a peer its own entry back. WebTorrent skips only
// 127.0.0.1:<its port>, so with its own address it would dial itself.
const validAddr = torrent._validAddr.bind(torrent);
torrent._validAddr = (addr) => validAddr(addr) && addr !== `${address ?? '127.0.0.1'}:${bound?.port}`;

torrent.on('error', (error) => fail(`torrent: ${error?.message ?? error}`));
torrent.on('warning', (error) => emit('warning', { message: String(error?.message ?? error) }));
torrent.on('trackerAnnounce', () => emit('announced'));
torrent.on('wire', (wire, addr) => emit('wire', { addr, type: wire.type }));

torrent.once('infoHash', () => {
  // Runs before discovery starts, so the tracker list can still be replaced.
  const wanted = Array.isArray(args.announce) ? args.announce : torrent.announce;
  torrent.announce = wanted.filter((url) => {
    let host = '';
    try {
      host = new URL(url).hostname;
    } catch {
      // unparseable: dropped below
    }
    if (isLoopback(host)) return true;
    emit('warning', { message: `ignoring tracker off loopback: ${url}` });
    return false;
  });
  torrent.urlList = [];
  for (const peer of args.peers ?? []) {
    if (!torrent.addPeer(peer)) emit('warning', { message: `peer not added: ${peer}` });
  }
});

torrent.once('metadata', () => {
  emit('metadata', {
    infoHash: torrent.infoHash,
    name: torrent.name,
    length: torrent.length,
    pieceCount: torrent.pieces.length,
  });
});

/** Bytes of verified pieces (torrent.downloaded also counts half-received pieces). */
function verifiedBytes() {
  if (!torrent.bitfield) return 0;
  const count = torrent.pieces.length;
  let bytes = 0;
  for (let index = 0; index < count; index++) {
    if (torrent.bitfield.get(index))
      bytes += index === count - 1 ? torrent.lastPieceLength : torrent.pieceLength;
  }
  return bytes;
}

let lastReported = -1;
function reportProgress() {
  const downloaded = verifiedBytes();
  if (downloaded === lastReported) return;
  lastReported = downloaded;
  emit('progress', { downloaded, length: torrent.length ?? 0 });
}
setInterval(reportProgress, Number(args.progressIntervalMs ?? 250)).unref();

torrent.once('done', () => {
  reportProgress();
  emit('done');
});

torrent.once('ready', () => {
  // 'done' for data already on disk fires right after 'ready', in the same tick.
  setImmediate(() => {
    if (args.mode === 'seed' && !torrent.done) {
      fail(`seed data incomplete: ${verifiedBytes()} of ${torrent.length} bytes verified in ${args.dir}`);
    }
  });
});

// Keep the process alive while seeding: WebTorrent's own handles may be unref'd.
setInterval(() => {}, 1 << 30);
