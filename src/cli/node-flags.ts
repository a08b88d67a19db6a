/**
 * Node flags the `lodestone` command runs with (its shebang line carries the
 * same). A download allocates many short-lived objects (messages, views of
 * socket reads) and V8 sizes its heap for throughput, not footprint:
 * - a 2 MiB young generation (V8's default grows to tens of MiB for them);
 * - `--heap-growing-percent=10`: the old generation's next collection is set
 *   at 1.1× what survived the last one (plus V8's minimum step), instead of
 *   a factor of up to 4 that lets it grow with the amount downloaded.
 * `--optimize-for-size` held memory as flat, but it also made V8 give pages
 * back and fault them in again: on 4 GiB from three seeders it cost 12–13
 * CPU-s against 9.3–9.8 (39k against 22k page faults), for 88 against 93 MB
 * of peak RSS; on 1 GiB, ~5% more CPU at the same 86–87 MB.
 */
export const CLI_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2', '--heap-growing-percent=10'];

/**
 * Environment the `lodestone` command runs with (the shebang sets it through
 * `env -S`). glibc's malloc hands memory back to the kernel as soon as 128 KiB
 * are free at the top of a heap and maps large blocks separately, unmapping
 * them on free; V8's compiler threads allocate and free their zone memory for
 * every function they optimize, so the same pages are faulted in again and
 * again (a third of a download's ~17k page faults). Keeping up to 32 MiB per
 * heap: 17k → 12k faults and ~5% less CPU on 1 GiB from three seeders, for
 * ~3 MB more peak RSS. Other C libraries ignore these variables.
 */
export const CLI_NODE_ENV: Readonly<Record<string, string>> = {
  MALLOC_TRIM_THRESHOLD_: '33554432',
  MALLOC_MMAP_THRESHOLD_: '33554432',
};

/** The shebang line of the `lodestone` command: CLI_NODE_ENV, then node with CLI_NODE_FLAGS. */
export function cliShebang(): string {
  const env = Object.entries(CLI_NODE_ENV).map(([name, value]) => `${name}=${value}`);
  return `#!/usr/bin/env -S ${[...env, 'node', ...CLI_NODE_FLAGS].join(' ')}`;
}
