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
