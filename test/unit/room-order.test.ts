/**
 * The rooms of src/ (docs/architecture.md) import only from the rooms above them in the flow,
 * and the pure rooms touch no I/O. Read from the TypeScript sources: a new import that breaks
 * the order fails here with the file and the import named.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../../src/', import.meta.url));

/** Files at the top of src/ that every room may use: small leaves importing no room. */
const LEAVES = new Set([
  'errors.ts',
  'address.ts',
  'bitfield.ts',
  'number-map.ts',
  'version.ts',
  'duration.ts',
  'clock.ts',
  'internal-errors.ts',
]);

/** The rooms each room may import from (besides itself and the leaves). */
const ALLOWED: Record<string, string[]> = {
  bencode: [],
  metainfo: ['bencode'],
  wire: ['bencode'],
  tracker: ['bencode'],
  // Transports under the peer wire: one UDP socket and its demultiplexer, uTP, MSE (docs/design.md).
  net: [],
  // The DHT (BEP 5): pure node logic; its socket and state file live in session.
  dht: ['bencode'],
  peer: ['wire', 'net'],
  policy: [],
  // Resume records are bencoded (docs/resume.md).
  storage: ['metainfo', 'bencode'],
  create: ['bencode', 'metainfo', 'storage'],
  session: ['metainfo', 'wire', 'tracker', 'net', 'dht', 'peer', 'policy', 'storage'],
  // The CLI is a program like any other: only the public entries (checked below).
  // The long-running client (settings, state folder, queue, the Transmission RPC in daemon/rpc/).
  daemon: [
    'bencode',
    'metainfo',
    'create',
    'wire',
    'tracker',
    'net',
    'dht',
    'peer',
    'policy',
    'storage',
    'session',
  ],
  cli: [
    'bencode',
    'metainfo',
    'create',
    'wire',
    'tracker',
    'net',
    'dht',
    'peer',
    'policy',
    'storage',
    'daemon',
  ],
  types: [],
};

/** Rooms that are pure (bytes or state in, results out): no files, sockets, threads or processes. */
const PURE = new Set(['bencode', 'metainfo', 'wire', 'policy', 'dht']);
const IO_MODULES =
  /^node:(fs|fs\/promises|net|dgram|http|https|http2|tls|dns|dns\/promises|worker_threads|child_process|cluster)$/;

interface Import {
  file: string;
  specifier: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** Static imports, re-exports and dynamic imports with a literal specifier. */
export function importsOf(source: string): string[] {
  const found: string[] = [];
  for (const match of source.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*'([^']+)'/g)) found.push(match[1]!);
  return found;
}

/** The room of a file under src/: its first folder, or undefined for a file at the top. */
function roomOf(path: string): string | undefined {
  const parts = relative(SRC, path).split(sep);
  return parts.length > 1 ? parts[0] : undefined;
}

const files = sourceFiles(SRC);
const imports: Import[] = files.flatMap((file) =>
  importsOf(readFileSync(file, 'utf8')).map((specifier) => ({ file, specifier })),
);

function target(item: Import): string {
  return resolve(dirname(item.file), item.specifier.replace(/\.js$/, '.ts'));
}

function where(item: Import): string {
  return `${relative(SRC, item.file)} imports '${item.specifier}'`;
}

describe('room order', () => {
  test('the import scanner sees static, re-export and dynamic imports', () => {
    assert.deepEqual(
      importsOf(
        "import { a } from './a.js';\nexport * from '../b/index.js';\nawait import('c');\nimport 'd';",
      ),
      ['./a.js', '../b/index.js', 'c', 'd'],
    );
    assert.ok(imports.length > 100, 'src/ was read');
  });

  test('each room imports only from the rooms above it', () => {
    const violations: string[] = [];
    for (const item of imports) {
      if (!item.specifier.startsWith('.')) continue;
      const from = roomOf(item.file);
      const to = roomOf(target(item));
      if (from === undefined) {
        // Top-level files: the leaves import no room; index.ts is the public entry and may.
        const name = relative(SRC, item.file);
        if (LEAVES.has(name) && to !== undefined) violations.push(`${where(item)}: a leaf imports a room`);
        continue;
      }
      if (to === undefined) {
        const name = relative(SRC, target(item));
        if (!LEAVES.has(name) && !(from === 'cli' && name === 'index.ts')) {
          violations.push(`${where(item)}: only the leaves (${[...LEAVES].join(', ')}) are shared`);
        }
        continue;
      }
      if (to === from) continue;
      const allowed = ALLOWED[from];
      assert.ok(allowed, `room ${from} is listed in ALLOWED`);
      if (!allowed.includes(to)) violations.push(`${where(item)}: ${from} may not import ${to}`);
    }
    assert.deepEqual(violations, []);
  });

  test('the CLI uses only the public entries (src/index.ts and the subpath entries)', () => {
    const violations = imports
      .filter((item) => roomOf(item.file) === 'cli' && item.specifier.startsWith('.'))
      .filter((item) => roomOf(target(item)) !== 'cli')
      .filter((item) => !/(^|\/)index\.js$/.test(item.specifier))
      .map(where);
    assert.deepEqual(violations, []);
  });

  test('the pure rooms touch no files, sockets, threads or processes', () => {
    const violations = imports
      .filter((item) => PURE.has(roomOf(item.file) ?? '') && IO_MODULES.test(item.specifier))
      .map(where);
    assert.deepEqual(violations, []);
  });
});
