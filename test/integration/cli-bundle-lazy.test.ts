/**
 * The bundled command loads only what a download needs at start: `lodestone daemon`'s RPC server
 * (fastify, ajv, …, about half the code) sits in a chunk only a dynamic import reaches, so the
 * files Node parses for `download` (the entry and the chunks it imports statically) hold none of
 * it. The daemon still starts from the bundle (its chunk loads on demand).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { startDaemonProcess } from '../helpers/daemon-process.js';
import { CLI_PATH } from '../helpers/lodestone-cli.js';
import { nextLoopbackAddress } from '../helpers/real-clients/net.js';

/** The bundle files loaded with `file` before any of its code runs (static imports, transitively). */
function staticClosure(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  const text = readFileSync(file, 'utf8');
  for (const match of text.matchAll(/(?:from|import)\s*"(\.\/[^"]+\.js)"/g))
    staticClosure(join(dirname(file), match[1]!), seen);
  return seen;
}

test('a download does not parse the daemon: fastify is only in a lazily imported chunk', () => {
  const files = staticClosure(CLI_PATH);
  const statically = [...files].map((file) => readFileSync(file, 'utf8'));
  // fastify's error codes (FST_ERR_…) and ajv's name appear in their code; neither is loaded at start.
  for (const marker of ['FST_ERR_', 'ajv']) {
    const holders = [...files].filter((_, i) => statically[i]!.includes(marker));
    assert.deepEqual(holders, [], `${marker} in statically loaded files`);
  }
  const entry = readFileSync(CLI_PATH, 'utf8');
  assert.match(entry, /import\("\.\/chunk-[A-Za-z0-9]+\.js"\)/, 'the daemon comes through a dynamic import');
});

test('lodestone daemon still starts from the bundle (its chunk loads on demand) and answers RPC', {
  timeout: 30_000,
}, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'lodestone-lazy-daemon-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const daemon = await startDaemonProcess(t, {
    stateDir: join(dir, 'state'),
    downloadDir: join(dir, 'data'),
    host: nextLoopbackAddress(),
    extra: ['--no-dht'],
  });
  const session = await daemon.rpc<{ version: string }>('session-get');
  assert.match(session.version, /lodestone|\d/i);
  const { code } = await daemon.stop();
  assert.equal(code, 0, daemon.log().slice(-2000));
});
