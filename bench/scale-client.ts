/**
 * "Our side" of the scale row (bench/scale-row.ts), run as its own process so the row can sample
 * its RSS, CPU and open files from outside: one `Client` seeding every torrent of a folder, with a
 * `DirectoryResumeStore`, no trackers (the torrents have none), no DHT, uTP on (one UDP socket).
 *
 *   node dist/bench/scale-client.js <work dir> <bind address>
 *
 * `<work dir>/torrents/<i>.torrent` seeds `<work dir>/data/<i>/`; resume records go to
 * `<work dir>/resume/`. Prints one JSON line when every torrent is seeding
 * (`{"seeding":n,"ms":…,"piecesHashed":…}`), then idles until SIGTERM, closes the client (which
 * writes the resume records) and prints `{"closed":true}`.
 *
 * The row runs it with `--scale-side client` (or `both`); by default it drives the real daemon
 * (bench/scale-daemon.ts).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client, DirectoryResumeStore, parseTorrent } from '../src/index.js';

async function main(): Promise<void> {
  const [dir, bindAddress] = process.argv.slice(2);
  if (!dir || !bindAddress) throw new Error('usage: scale-client <work dir> <bind address>');
  const started = performance.now();
  const client = new Client({
    port: 0,
    bindAddress,
    resume: new DirectoryResumeStore(join(dir, 'resume')),
    dht: false,
  });
  client.on('error', (error) => process.stderr.write(`error: ${error.message}\n`));
  await client.listen();
  const names = (await readdir(join(dir, 'torrents'))).filter((name) => name.endsWith('.torrent'));
  let piecesHashed = 0;
  const sessions = await Promise.all(
    names.map(async (name) => {
      const meta = parseTorrent(await readFile(join(dir, 'torrents', name)));
      const session = client.add(meta, {
        path: join(dir, 'data', name.replace(/\.torrent$/, '')),
        seed: true,
      });
      session.once('ready', (info) => {
        piecesHashed += info.piecesHashed;
      });
      return session;
    }),
  );
  await Promise.all(sessions.map((session) => session.start()));
  const seeding = sessions.filter((session) => session.done).length;
  process.stdout.write(
    `${JSON.stringify({ seeding, of: sessions.length, ms: Math.round(performance.now() - started), piecesHashed })}\n`,
  );
  await new Promise<void>((resolve) => process.once('SIGTERM', resolve));
  await client.close();
  process.stdout.write(`${JSON.stringify({ closed: true })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`scale-client: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
