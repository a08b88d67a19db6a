#!/usr/bin/env -S MALLOC_TRIM_THRESHOLD_=33554432 MALLOC_MMAP_THRESHOLD_=33554432 node --max-semi-space-size=2 --heap-growing-percent=10
import { Command, CommanderError, Option } from 'commander';
import { isLodestoneError, VERSION } from '../index.js';
import { createCommand } from './commands/create.js';
import { demoCommand } from './commands/demo.js';
import { doctorCommand } from './commands/doctor.js';
import { downloadCommand } from './commands/download.js';
import { infoCommand } from './commands/info.js';
import { metadataCommand } from './commands/metadata.js';
import { seedCommand } from './commands/seed.js';
import { ExitCode, exitCodeFor } from './exit-codes.js';
import { flushJsonLines } from './json-lines.js';
import { terminalText } from './terminal-text.js';

const debug = process.argv.includes('--debug');

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function reportAndExit(error: unknown): never {
  // Messages embed remote text (tracker failure reasons, names): escaped on the terminal, exact in JSON.
  if (debug && error instanceof Error) {
    process.stderr.write(`${(error.stack ?? '').split('\n').map(terminalText).join('\n')}\n`);
  }
  const message = error instanceof Error ? error.message : String(error);
  const prefix = isLodestoneError(error) ? 'error' : 'internal error';
  if (process.argv.includes('--json')) {
    flushJsonLines(); // the events queued before it go first
    // Scripts reading the event stream see the failure too, not only a human on stderr.
    const code = isLodestoneError(error) ? error.code : 'LODESTONE_ERR_INTERNAL';
    process.stdout.write(
      `${JSON.stringify({ type: 'error', time: new Date().toISOString(), code, message })}\n`,
    );
  }
  process.stderr.write(`lodestone: ${prefix}: ${terminalText(message)}\n`);
  process.exit(exitCodeFor(error));
}

const program = new Command()
  .name('lodestone')
  .description('A BitTorrent client for Node.js')
  .version(VERSION)
  .option('--debug', 'print stack traces on errors')
  .exitOverride()
  .showHelpAfterError();

program
  .command('info')
  .description('show what a .torrent file or magnet link contains')
  .argument('<source>', '.torrent file or magnet link')
  .option('--json', 'print JSON')
  .action(async (source: string, options) => {
    await infoCommand(source, options);
  });

/** `--encryption`, shared by the swarm commands and `metadata`. */
function encryptionOption(): Option {
  return new Option(
    '--encryption <policy>',
    'protocol encryption (MSE/PE): prefer (encrypted first, plaintext fallback), require (RC4 only), allow (plaintext first), disable',
  )
    .choices(['prefer', 'require', 'allow', 'disable'])
    .default('prefer');
}

const NO_UTP = 'no uTP: no UDP socket, peers are dialled and accepted over TCP only';

/** Options of every command that joins a swarm (download, seed). */
/** Rates are bytes per second: k, M, G (and kB, MB, GB) are powers of 1000; KiB, MiB, GiB of 1024. */
const RATE_HELP = (direction: string): string =>
  `most bytes per second to ${direction} for all torrents, counting protocol overhead: 500k, 2M (k/M/G = 1000-based), 1.5MiB (KiB/MiB = 1024-based); 0 = unlimited`;

function swarmOptions(command: Command): Command {
  return command
    .option(
      '-p, --port <port>',
      'port to listen on for incoming peers, next ones tried if taken (0 = any free port)',
      '6881',
    )
    .option('--bind <address>', 'local IP address to listen on, connect and announce from')
    .option('--max-peers <n>', 'most peers connected at once', '50')
    .option('--upload-slots <n>', 'peers unchoked at once (plus one optimistic)', '4')
    .option('--download-limit <rate>', RATE_HELP('download'))
    .option('--upload-limit <rate>', RATE_HELP('upload'))
    .option('--peer <host:port>', 'also connect to this peer (repeatable)', collect)
    .addOption(encryptionOption())
    .option('--no-utp', NO_UTP)
    .option('--no-trackers', "do not announce to the torrent's trackers")
    .option(
      '--state-dir <dir>',
      'folder for state kept between runs (DHT table, resume records); default $XDG_STATE_HOME/lodestone',
    )
    .option('--no-resume', 'ignore resume records: check every piece on disk, write no record')
    .option('--resume-interval <duration>', 'write the resume record this often while pieces arrive', '30s')
    .option('--seed-ratio <ratio>', 'seed until uploaded = ratio × size (implies --seed)')
    .option('--seed-time <duration>', 'seed for this long after completion, e.g. 30m (implies --seed)')
    .addOption(new Option('--json', 'print one JSON event per line').conflicts('quiet'))
    .option('-q, --quiet', 'print nothing but errors')
    .option('-v, --verbose', 'log tracker and peer events to stderr')
    .option('--trace', 'log every wire message sent and received to stderr')
    .option('--no-dht', 'no DHT: find peers only through trackers, --peer and peer exchange')
    .option(
      '--dht-bootstrap <host:port>',
      'join the DHT through this node (repeatable; default: the public routers of libtorrent and Transmission)',
      collect,
    );
}

swarmOptions(
  program
    .command('download')
    .description('download a torrent or magnet link into a folder')
    .argument('<source>', '.torrent file or magnet link')
    .option('-o, --output <dir>', 'folder to download into', '.')
    .option('--seed', 'keep seeding after the download completes (until Ctrl-C or a seeding limit)')
    .option(
      '--files <list>',
      'download only these files, by index as `lodestone info` lists them, e.g. 0,2,5-7',
    )
    .option('--skip <list>', 'download every file but these (indexes as for --files)')
    .option(
      '--sequential',
      "download pieces in order (each file's first and last piece first), e.g. to play as it arrives",
    )
    .option(
      '--metadata-timeout <duration>',
      'magnet links: give up (exit 5) after this long without progress fetching the metadata, e.g. 90s, 5m',
      '5m',
    ),
).action(async (source: string, options) => {
  process.exitCode = await downloadCommand(source, options);
});

swarmOptions(
  program
    .command('seed')
    .description('check existing data against a torrent and seed it')
    .argument('<torrent>', '.torrent file')
    .argument('<data-path>', "the torrent's file or folder, or the folder that holds it"),
).action(async (torrent: string, dataPath: string, options) => {
  process.exitCode = await seedCommand(torrent, dataPath, options);
});

program
  .command('create')
  .description('make a .torrent from a file or folder')
  .argument('<input>', 'file or folder to share')
  .option(
    '-t, --tracker <urls>',
    'tracker announce URL; repeat for backup tiers, commas separate URLs of one tier',
    collect,
  )
  .option('-w, --web-seed <urls>', 'web seed URL (repeatable, or comma-separated)', collect)
  .option('-p, --private', 'mark the torrent private (peers only from its trackers)')
  .option(
    '--piece-length <size>',
    'piece length in bytes or with a suffix: 256KiB, 1MiB (default: automatic)',
  )
  .option('-o, --output <file>', 'where to write the .torrent (default: <name>.torrent)')
  .option('-n, --name <name>', "torrent name (default: the input's name)")
  .option('-c, --comment <text>', 'comment stored in the torrent')
  .option('--no-date', 'leave out the creation date (reproducible output)')
  .option('-f, --force', 'overwrite an existing output file')
  .addOption(new Option('--json', 'print a JSON summary').conflicts('quiet'))
  .option('-q, --quiet', 'print nothing but errors')
  .action(async (input: string, options) => {
    process.exitCode = await createCommand(input, options);
  });

program
  .command('metadata')
  .description('fetch the metadata of a magnet link from peers and save it as a .torrent file')
  .argument('<magnet>', 'magnet link')
  .requiredOption('-o, --output <file>', '.torrent file to write')
  .option('-p, --port <port>', 'port to listen on (0 = any free port)', '6881')
  .option('--bind <address>', 'local IP address to listen on and connect from')
  .option('--no-trackers', "do not announce to the magnet's trackers")
  .option('--peer <host:port>', 'also ask this peer (repeatable)', collect)
  .addOption(encryptionOption())
  .option('--no-utp', NO_UTP)
  .option(
    '--metadata-timeout <duration>',
    'give up (exit 5) after this long without progress, e.g. 90s, 5m',
    '5m',
  )
  .addOption(new Option('--json', 'print one JSON event per line').conflicts('quiet'))
  .option('-q, --quiet', 'print nothing but errors')
  .option('-v, --verbose', 'log tracker and peer events to stderr')
  .option('--trace', 'log every wire message to stderr')
  .option('--no-dht', 'no DHT: ask only the trackers and peers the magnet (or --peer) gives')
  .option('--dht-bootstrap <host:port>', 'join the DHT through this node (repeatable)', collect)
  .option(
    '--state-dir <dir>',
    'folder for the DHT table kept between runs; default $XDG_STATE_HOME/lodestone',
  )
  .action(async (source: string, options) => {
    process.exitCode = await metadataCommand(source, options);
  });

program
  .command('doctor')
  .description(
    "find out why a torrent does not start: ask its trackers and peers for a while, without downloading, and say what's wrong",
  )
  .argument('<source>', '.torrent file or magnet link')
  .option('--time <duration>', 'how long to probe at most, e.g. 30s, 2m', '30s')
  .option('-p, --port <port>', 'port to listen on (0 = any free port)', '0')
  .option('--bind <address>', 'local IP address to listen on, connect and announce from')
  .option('--peer <host:port>', 'also probe this peer (repeatable)', collect)
  .option('--no-trackers', "do not announce to the torrent's trackers")
  .addOption(
    new Option('--encryption <policy>', 'protocol encryption (MSE/PE), as for download')
      .choices(['prefer', 'require', 'allow', 'disable'])
      .default('prefer'),
  )
  .option('--no-utp', 'dial peers over TCP only')
  .option('--no-dht', 'do not ask the DHT')
  .option(
    '--dht-bootstrap <host:port>',
    'join the DHT through this node (repeatable; default: the public routers, as for download)',
    collect,
  )
  .option('--state-dir <dir>', 'folder of the saved DHT table, as for download')
  .option('--json', 'print the report as one JSON object')
  .action(async (source: string, options) => {
    process.exitCode = await doctorCommand(source, options);
  });

program
  .command('daemon')
  .description(
    'run the daemon: many torrents, settings and state kept between runs (SIGTERM stops it, SIGHUP reloads settings)',
  )
  .option('--config <file>', 'settings file (Transmission keys); default <state dir>/settings.json')
  .option(
    '--state-dir <dir>',
    'folder for torrents, resume records, stats; default $XDG_STATE_HOME/lodestone',
  )
  .option('--download-dir <dir>', 'where new torrents are downloaded (saved as download-dir)')
  .option('-p, --port <port>', 'peer port (saved as peer-port; 0 = any free port)')
  .option('--peer-port <port>', 'same as --port')
  .option('--bind <address>', 'local IPv4 address for peers (saved as bind-address-ipv4)')
  .option('--rpc-port <port>', 'RPC port (saved as rpc-port)')
  .option('--rpc-bind-address <address>', 'RPC address (saved as rpc-bind-address)')
  .option('--rpc-username <name>', 'RPC user name')
  .option('--rpc-password <password>', 'RPC password (saved hashed; turns authentication on)')
  .option('--web-root <dir>', 'folder of a web client the RPC serves')
  .option('--no-dht', 'no DHT (saved as dht-enabled: false)')
  .option(
    '--dht-bootstrap <host:port>',
    'join the DHT through this node (repeatable; default: the public routers)',
    collect,
  )
  .addOption(
    new Option('--log-level <level>', 'what to log on stderr (default: from message-level)').choices([
      'error',
      'info',
      'debug',
    ]),
  )
  .action(async (options) => {
    // Loaded only here: the RPC server (fastify, ajv, …) is most of the bundle, and every other
    // command (a download's start time above all) would otherwise parse it (bundle-cli.mjs splits it).
    const { daemonCommand } = await import('./commands/daemon.js');
    process.exitCode = await daemonCommand(options);
  });

program
  .command('demo')
  .description(
    'download generated content from a loopback swarm of our own (tracker + Lodestone seeder), offline',
  )
  .option('--size <size>', 'how much content to generate, e.g. 64MiB, 1GiB', '128MiB')
  .option('--no-keep', 'remove the downloaded copy at the end too')
  .option('-q, --quiet', 'print nothing but errors')
  .action(async (options) => {
    process.exitCode = await demoCommand(options);
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exit(error.exitCode === 0 ? ExitCode.ok : ExitCode.usage);
  }
  reportAndExit(error);
}
