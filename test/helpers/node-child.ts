import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { TestContext } from 'node:test';

/**
 * Runs `node <args>` with `env` added to this process's environment, collects its stdout and
 * stderr, and resolves once it has exited and its output is read. It fails by assertion if the
 * child has not ended within `timeoutMs` (saying what it was doing), and kills it by its PID when
 * the test ends, whatever happened.
 */
export async function runNodeChild(
  t: TestContext,
  args: string[],
  env: Record<string, string>,
  { timeoutMs, what }: { timeoutMs: number; what: string },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => {
    if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new assert.AssertionError({
            message: `${what} did not end within ${timeoutMs / 1000} s: ${stderr}`,
          }),
        ),
      timeoutMs,
    );
    // 'close', not 'exit': every byte the child wrote has been read by then.
    child.once('close', (exitCode) => {
      clearTimeout(timer);
      resolve(exitCode);
    });
  });
  return { code, stdout, stderr };
}
