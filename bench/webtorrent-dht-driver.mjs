#!/usr/bin/env node
/**
 * WebTorrent (the library, v3) fetching a trackerless magnet through a loopback DHT, for the DHT
 * bench row (bench/dht-row.ts). Plain JavaScript, never compiled; found relative to the repository.
 *
 *   node bench/webtorrent-dht-driver.mjs '{"magnet": "...", "dir": "...", "bootstrap": ["127.0.0.10:7001"]}'
 *
 * Prints one JSON line per event, `ms` since the driver's start (the parent adds its spawn delay):
 *   {event:'peer', ms}  the first peer address the DHT gave (torrent 'peer')
 *   {event:'wire', ms}  the first peer connection (handshake done)
 *   {event:'metadata', ms}
 * then exits. Only the given loopback nodes are contacted: no public bootstrap (the list replaces
 * it), no trackers, LSD, PEX, UPnP, NAT-PMP, uTP or web seeds.
 */
const start = performance.now();
const args = JSON.parse(process.argv[2] ?? '{}');
const emit = (event, fields = {}) =>
  process.stdout.write(
    `${JSON.stringify({ event, ms: Math.round(performance.now() - start), ...fields })}\n`,
  );
const fail = (message) => {
  emit('error', { message: String(message) });
  process.exit(1);
};
process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);

if (!Array.isArray(args.bootstrap) || args.bootstrap.some((b) => !/^127\.\d+\.\d+\.\d+:\d+$/.test(b))) {
  fail('bootstrap must be a list of loopback host:port');
}
const { default: WebTorrent } = await import('webtorrent');
const client = new WebTorrent({
  dht: { bootstrap: args.bootstrap },
  tracker: false,
  lsd: false,
  utPex: false,
  natUpnp: false,
  natPmp: false,
  utp: false,
  webSeeds: false,
  secure: 0,
});
client.on('error', fail);
const torrent = client.add(args.magnet, { path: args.dir });
let peer = false;
let wire = false;
torrent.on('peer', () => {
  if (!peer) emit('peer');
  peer = true;
});
torrent.on('wire', () => {
  if (!wire) emit('wire');
  wire = true;
});
torrent.on('metadata', () => {
  emit('metadata');
  client.destroy(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
});
