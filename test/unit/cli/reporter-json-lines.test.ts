/**
 * The CLI's `--json` lines: the lines of one event-loop turn go out in one write, keep their
 * format and order, and are never lost when the process exits right after emitting them.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { LineBatcher } from '../../../src/cli/json-lines.js';
import { runNodeChild } from '../../helpers/node-child.js';

const REPORTER = fileURLToPath(new URL('../../../src/cli/reporter.js', import.meta.url));

test('LineBatcher: the lines of one turn make one write, in order; the next turn another', () => {
  const writes: string[] = [];
  const scheduled: (() => void)[] = [];
  const batcher = new LineBatcher(
    (text) => writes.push(text),
    (flush) => scheduled.push(flush),
  );
  batcher.add('a\n');
  batcher.add('b\n');
  batcher.add('c\n');
  assert.deepEqual(writes, []);
  assert.equal(scheduled.length, 1, 'one flush scheduled for the turn');
  scheduled.shift()!();
  assert.deepEqual(writes, ['a\nb\nc\n']);
  batcher.add('d\n');
  assert.equal(scheduled.length, 1);
  batcher.flush(); // an error path flushing before its own line
  assert.deepEqual(writes, ['a\nb\nc\n', 'd\n']);
  scheduled.shift()!(); // the turn's flush then finds nothing
  assert.deepEqual(writes, ['a\nb\nc\n', 'd\n']);
  assert.equal(batcher.pendingLines, 0);
});

/** A child that emits `count` events in one turn, then one more and exits in the same turn as that one. */
const CHILD = `
const { Reporter } = await import(process.env.REPORTER_PATH);
let writes = 0;
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = (...args) => { writes++; return write(...args); };
const reporter = new Reporter('json');
for (let i = 0; i < 200; i++) reporter.event('peer-connected', { address: '127.0.0.' + (i % 250) + ':6881', i });
setImmediate(() => {
  process.stderr.write('writes after the first turn: ' + writes + '\\n');
  reporter.event('done', { note: 'quote " and \\u00e9' });
  if (process.env.END === 'throw') throw new Error('boom');
  process.exit(0);
});
`;

for (const end of ['exit', 'throw'] as const) {
  test(`Reporter --json: 200 events of one turn in one write, and the last line kept on ${end === 'exit' ? 'process.exit' : 'an uncaught error'}`, async (t) => {
    const { code, stdout, stderr } = await runNodeChild(
      t,
      ['--input-type=module', '-e', CHILD],
      { REPORTER_PATH: REPORTER, END: end },
      { timeoutMs: 20_000, what: 'the reporter child' },
    );
    assert.equal(code, end === 'exit' ? 0 : 1, stderr);
    assert.match(stderr, /writes after the first turn: 1\n/);
    const lines = stdout.split('\n');
    assert.equal(lines.pop(), '', 'ends with a newline');
    assert.equal(lines.length, 201);
    const events = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.deepEqual(
      events.slice(0, 200).map((event) => event.i),
      Array.from({ length: 200 }, (_, i) => i),
    );
    // Byte-identical to the unbatched format: type, time, then the fields, one object per line.
    const last = events[200]!;
    assert.equal(lines[200], JSON.stringify({ type: 'done', time: last.time, note: 'quote " and é' }));
    assert.equal(
      lines[0],
      JSON.stringify({ type: 'peer-connected', time: events[0]!.time, address: '127.0.0.0:6881', i: 0 }),
    );
  });
}
