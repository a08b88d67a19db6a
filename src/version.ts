/**
 * Lodestone's version, read once from package.json: every other place (the CLI's `--version`,
 * the BEP 10 `v` client name, the tracker user agent, the peer-id prefix, `created by`) derives
 * from it. The file is read at run time: both `dist/src/version.js` and the bundled command
 * `dist/cli/lodestone.js` sit two folders below the package root, next to which npm always
 * installs package.json.
 */
import { createRequire } from 'node:module';

const packageJson = createRequire(import.meta.url)('../../package.json') as { version?: unknown };
if (typeof packageJson.version !== 'string') {
  throw new TypeError('lodestone: package.json has no version string');
}

/** The package version, e.g. `0.1.0`. */
export const VERSION: string = packageJson.version;

/** Client name sent in the BEP 10 extension handshake (`v`) and written as `created by`. */
export const CLIENT_NAME = `Lodestone ${VERSION}`;

/** User-Agent of HTTP tracker announces. */
export const USER_AGENT = `Lodestone/${VERSION}`;

/**
 * Azureus-style peer-id prefix (`-LS` + one character per version part + `-`), e.g. `-LS0100-`
 * for 0.1.0, the way libtorrent writes `-LT2080-` for 2.0.8. A part above 9 is written in base 36
 * (10 = `A`); parts beyond four and pre-release tags are left out.
 */
export function peerIdPrefix(version: string): string {
  const parts = version.split(/[.+-]/, 3).map((part) => Number.parseInt(part, 10));
  const digits = [0, 1, 2, 3].map((i) => {
    const part = parts[i];
    return part !== undefined && Number.isInteger(part) && part >= 0 && part < 36
      ? part.toString(36).toUpperCase()
      : '0';
  });
  return `-LS${digits.join('')}-`;
}

/** The peer-id prefix of this version. */
export const PEER_ID_PREFIX = peerIdPrefix(VERSION);
