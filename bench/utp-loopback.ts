/**
 * uTP throughput between two Lodestone endpoints in one process on loopback:
 * `node dist/bench/utp-loopback.js [MiB]` (default 256). Prints MiB/s, CPU
 * seconds per GiB (both ends: this process does the sending and the
 * receiving) and datagrams per second. Not part of `npm run bench` yet; run
 * with `node --cpu-prof` to see where the time goes (docs/utp.md).
 */
import { randomBytes } from 'node:crypto';
import type { UtpStream } from '../src/net/utp/utp-stream.js';
import { utpEndpoint } from '../test/helpers/utp-endpoint.js';

const MiB = 1024 * 1024;
const size = Number(process.argv[2] ?? 256) * MiB;

const server = await utpEndpoint('127.0.0.71');
const client = await utpEndpoint('127.0.0.72');
let datagrams = 0;
for (const end of [server, client]) {
  const send = end.udp.send.bind(end.udp);
  end.udp.send = (d, p, h) => {
    datagrams++;
    send(d, p, h);
  };
}
const incoming = new Promise<UtpStream>((resolve) => server.utp.once('connection', resolve));
const stream = await client.utp.connect('127.0.0.71', server.port);
stream.resume();
const chunk = randomBytes(MiB);
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const writing = (async () => {
  for (let written = 0; written < size; written += chunk.length) {
    if (!stream.write(chunk)) await new Promise((r) => stream.once('drain', r));
  }
  stream.end();
})();
const accepted = await incoming;
let bytes = 0;
for await (const data of accepted) bytes += (data as Buffer).length;
await writing;
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
console.log(
  JSON.stringify({
    bytes,
    seconds: +seconds.toFixed(2),
    mibPerSecond: +(bytes / MiB / seconds).toFixed(1),
    cpuSecondsPerGiB: +((cpuSeconds * 1024 * MiB) / bytes).toFixed(2),
    userPerGiB: +((cpu.user / 1e6) * ((1024 * MiB) / bytes)).toFixed(2),
    systemPerGiB: +((cpu.system / 1e6) * ((1024 * MiB) / bytes)).toFixed(2),
    datagramsPerSecond: Math.round(datagrams / seconds),
  }),
);
client.close();
server.close();
