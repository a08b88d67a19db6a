/**
 * A program embedding Lodestone survives a torrent's fatal failure (a full disk) even when
 * nobody listens for 'error' (the README's example did not), and the failure is reported: on
 * the Client's 'error' when it has a listener, else as a process warning, and always as
 * `session.failure`. The program runs as a child process (test/helpers/embedding-host.ts), so a
 * crash is observed as its exit code rather than taking the test runner down.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { nextLoopbackAddress } from '../helpers/real-clients/index.js';

const HOST = fileURLToPath(new URL('../helpers/embedding-host.js', import.meta.url));
const CHILD_TIMEOUT_MS = 40_000;

interface HostResult {
  failure: string | null;
  clientErrors: { code: string; sameSession: boolean }[];
  warnings: { name: string; code: string | undefined; message: string }[];
  writes: number;
  verified: number;
  done: boolean;
}

/** Runs the embedding program; ends it by its PID if it outlives CHILD_TIMEOUT_MS. */
async function runHost(clientListener: boolean): Promise<{
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  result: HostResult | undefined;
}> {
  const config = { seederHost: nextLoopbackAddress(), leecherHost: nextLoopbackAddress(), clientListener };
  const child = spawn(process.execPath, [HOST, JSON.stringify(config)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const killer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
  try {
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.once('exit', (c, s) => resolve([c, s])),
    );
    const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
    return { code, signal, stderr, result: line ? (JSON.parse(line.slice(7)) as HostResult) : undefined };
  } finally {
    clearTimeout(killer);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

test('no error listener anywhere: the host survives, the failure is a warning and session.failure', {
  timeout: 60_000,
}, async () => {
  const { code, signal, stderr, result } = await runHost(false);
  assert.equal(signal, null, `the host was killed (timeout?): ${stderr}`);
  assert.equal(code, 0, `the host process crashed: ${stderr}`);
  assert.ok(result, `the host reported: ${stderr}`);
  assert.equal(result.failure, 'LODESTONE_ERR_DISK_FULL');
  assert.ok(result.writes >= 1 && result.verified === 0 && !result.done, JSON.stringify(result));
  const lodestone = result.warnings.filter((w) => w.name === 'LodestoneWarning');
  assert.equal(lodestone.length, 1, `one warning for one failure: ${JSON.stringify(result.warnings)}`);
  assert.equal(lodestone[0]!.code, 'LODESTONE_ERR_DISK_FULL');
  assert.match(stderr, /LodestoneWarning.*disk full/, 'the warning reaches stderr');
});

test("with a Client 'error' listener: the failure arrives there once, with its session, and no warning", {
  timeout: 60_000,
}, async () => {
  const { code, signal, stderr, result } = await runHost(true);
  assert.equal(signal, null, `the host was killed (timeout?): ${stderr}`);
  assert.equal(code, 0, `the host process crashed: ${stderr}`);
  assert.ok(result, `the host reported: ${stderr}`);
  assert.equal(result.failure, 'LODESTONE_ERR_DISK_FULL');
  assert.deepEqual(result.clientErrors, [{ code: 'LODESTONE_ERR_DISK_FULL', sameSession: true }]);
  assert.deepEqual(
    result.warnings.filter((w) => w.name === 'LodestoneWarning'),
    [],
  );
});
