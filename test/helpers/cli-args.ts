/**
 * The one guard between tests/bench and the public DHT: the CLI joins the DHT by default through
 * public routers, so every `download`/`seed`/`metadata`/`doctor`/`daemon` a test or the bench spawns goes through here. Without
 * `--no-dht` or a `--dht-bootstrap`, `--no-dht` is added; a `--dht-bootstrap` must be a loopback
 * address (no hostname: not even a DNS lookup leaves the machine).
 */

/** The commands that join a swarm (or fetch a magnet's metadata, or probe: doctor), and so the DHT. */
const SWARM_COMMANDS = new Set(['download', 'seed', 'metadata', 'doctor', 'daemon']);

function isLoopbackNode(text: string): boolean {
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}:\d{1,5}$/.test(text) || /^\[::1\]:\d{1,5}$/.test(text);
}

export function safeCliArgs(args: readonly string[]): string[] {
  const command = args.find((arg) => !arg.startsWith('-'));
  if (command === undefined || !SWARM_COMMANDS.has(command)) return [...args];
  args.forEach((arg, at) => {
    const value =
      arg === '--dht-bootstrap'
        ? args[at + 1]
        : arg.startsWith('--dht-bootstrap=')
          ? arg.slice(16)
          : undefined;
    if (value !== undefined && !isLoopbackNode(value))
      throw new Error(`tests may bootstrap the DHT only on loopback, not "${value}"`);
  });
  const optedIn = args.some((arg) => arg === '--no-dht' || arg.startsWith('--dht-bootstrap'));
  return optedIn ? [...args] : [...args, '--no-dht'];
}
