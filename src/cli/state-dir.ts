import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

/**
 * The folder where the CLI keeps what outlives one run (the DHT routing table, resume records):
 * `--state-dir`, else `$XDG_STATE_HOME/lodestone`, else `~/.local/state/lodestone` (the XDG base
 * directory rules; a relative `XDG_STATE_HOME` is ignored, as the spec says).
 */
export function resolveStateDir(option: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (option !== undefined && option !== '') return resolve(option);
  const xdg = env.XDG_STATE_HOME;
  if (xdg !== undefined && isAbsolute(xdg)) return join(xdg, 'lodestone');
  return join(env.HOME || homedir(), '.local', 'state', 'lodestone');
}
