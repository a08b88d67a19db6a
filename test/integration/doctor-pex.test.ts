/**
 * `lodestone doctor` counts PEX (BEP 11) as a source (issue 17): given only peer A, a libtorrent
 * peer with no data connected to seeder B (libtorrent), the probe asks A for its ut_pex list,
 * learns B's address from it, probes B (a seeder) and reports PEX as a source that answered with
 * B. B is named by no other source: without PEX in the probe, doctor would find one empty peer.
 * With CI=true a missing python3-libtorrent fails the test; locally it is skipped.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { DoctorPeer, DoctorSource } from '../../src/session/doctor-report.js';
import { runCli } from '../helpers/lodestone-cli.js';
import { type PayloadFixture, payloadFixture } from '../helpers/payload-fixture.js';
import { freePort, nextLoopbackAddress } from '../helpers/real-clients/index.js';
import { makeClientDir, pollUntil, spawnManaged, waitListening } from '../helpers/real-clients/process.js';
import { LIBTORRENT_PYTHON, requirePythonLibtorrent } from '../helpers/tools.js';

const LT_PEER = fileURLToPath(new URL('../../../test/fixtures/pex/lt-pex-peer.py', import.meta.url));

/** A libtorrent peer (test/fixtures/pex/lt-pex-peer.py), stopped by PID after the test. */
async function startLibtorrent(t: TestContext, f: PayloadFixture, mode: 'seed' | 'empty', peer?: string) {
  const address = nextLoopbackAddress();
  const port = await freePort(address);
  const dir = await makeClientDir(`lt-doctor-pex-${mode}`);
  if (mode === 'seed') await writeFile(join(dir, 'payload.bin'), f.data);
  const proc = await spawnManaged({
    name: `libtorrent ${mode} peer`,
    command: LIBTORRENT_PYTHON,
    args: [LT_PEER, mode, f.torrentPath, dir, address, String(port), ...(peer ? [peer] : [])],
    dir,
  });
  t.after(() => proc.stop());
  const status = async (): Promise<{ ready: boolean; is_seeding: boolean; peers: { ip: string }[] }> =>
    JSON.parse(await readFile(join(dir, 'status.json'), 'utf8'));
  await pollUntil(proc, `libtorrent ${mode} peer to start`, 30_000, async () => {
    const s = await status().catch(() => undefined);
    return {
      done: s?.ready === true && (mode !== 'seed' || s.is_seeding),
      status: JSON.stringify(s),
    };
  });
  await waitListening(proc, address, port);
  return { proc, key: `${address}:${port}`, status };
}

test('doctor: a peer’s ut_pex list is a source; the seeder it names is probed', {
  timeout: 90_000,
}, async (t) => {
  if (!requirePythonLibtorrent(t)) return;
  const f = await payloadFixture(t, 256 * 1024 + 17, 'lodestone-doctor-pex-');
  const seeder = await startLibtorrent(t, f, 'seed');
  const middle = await startLibtorrent(t, f, 'empty', seeder.key);
  await pollUntil(middle.proc, 'the empty peer to connect to the seeder', 20_000, async () => {
    const s = await middle.status();
    return { done: s.peers.some((p) => p.ip === seeder.key), status: JSON.stringify(s.peers) };
  });

  const run = runCli([
    'doctor',
    f.torrentPath,
    '--json',
    '--no-dht',
    '--no-utp',
    ...['--time', '20s', '--bind', nextLoopbackAddress(), '--peer', middle.key],
  ]);
  t.after(() => run.stop());
  const { code, stdout, stderr } = await run.exited;
  const report = run.events.find((e) => e.type === 'doctor') as
    | { sources: DoctorSource[]; peers: DoctorPeer[]; verdict: { code: string; text: string } }
    | undefined;
  assert.ok(report, `one JSON report\n${stdout}\n${stderr}`);
  assert.equal(code, 0, `${report.verdict.text}\n${stderr}`);
  const pex = report.sources.find((s) => s.kind === 'pex');
  // A names B; B, probed in turn, names A (which told B its listen port): two distinct addresses.
  assert.deepEqual([pex?.status, pex?.peers], ['answered', 2], JSON.stringify(pex));
  const byAddress = new Map(report.peers.map((p) => [p.address, p]));
  assert.deepEqual(byAddress.get(middle.key)?.sources, ['--peer', 'PEX']);
  assert.equal(report.peers.length, 2, JSON.stringify(report.peers));
  const found = byAddress.get(seeder.key);
  assert.deepEqual(found?.sources, ['PEX'], 'the seeder came from the middle peer’s list only');
  assert.equal(found?.handshake, true, JSON.stringify(found));
  assert.equal(found?.seeder, true, 'probed: a seeder');
  assert.equal(report.verdict.code, 'healthy', report.verdict.text);
});
