import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { safeCliArgs } from '../../helpers/cli-args.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sources(path));
    else if (/\.(ts|mjs|sh)$/.test(name)) out.push(path);
  }
  return out;
}

describe('tests and the bench never join the public DHT', { timeout: 10_000 }, () => {
  test('download and seed get --no-dht unless they opt in with a loopback bootstrap', () => {
    assert.deepEqual(safeCliArgs(['download', 'x.torrent']), ['download', 'x.torrent', '--no-dht']);
    assert.deepEqual(safeCliArgs(['--debug', 'seed', 't', 'd']), ['--debug', 'seed', 't', 'd', '--no-dht']);
    assert.deepEqual(safeCliArgs(['download', 'm', '--no-dht']), ['download', 'm', '--no-dht']);
    assert.deepEqual(safeCliArgs(['doctor', 'm']), ['doctor', 'm', '--no-dht']);
    assert.deepEqual(safeCliArgs(['daemon', '--state-dir', 's']), ['daemon', '--state-dir', 's', '--no-dht']);
    assert.deepEqual(safeCliArgs(['download', 'm', '--dht-bootstrap', '127.0.0.9:7000']), [
      'download',
      'm',
      '--dht-bootstrap',
      '127.0.0.9:7000',
    ]);
    assert.deepEqual(safeCliArgs(['metadata', 'm', '-o', 'x']), ['metadata', 'm', '-o', 'x', '--no-dht']);
    assert.deepEqual(safeCliArgs(['info', 'x.torrent']), ['info', 'x.torrent']);
    assert.deepEqual(safeCliArgs(['create', 'dir']), ['create', 'dir']);
  });

  test('a bootstrap node off loopback, or a hostname, is refused', () => {
    for (const node of ['router.bittorrent.com:6881', '10.0.0.1:6881', 'localhost:6881', '[2001:db8::1]:1'])
      assert.throws(() => safeCliArgs(['download', 'm', '--dht-bootstrap', node]), /loopback/);
    assert.throws(() => safeCliArgs(['seed', 't', 'd', '--dht-bootstrap=8.8.8.8:53']), /loopback/);
    assert.throws(() => safeCliArgs(['daemon', '--dht-bootstrap', '8.8.8.8:53']), /loopback/);
  });

  test('every place that spawns the CLI goes through safeCliArgs or passes --no-dht', () => {
    const helper = readFileSync(join(root, 'test/helpers/lodestone-cli.ts'), 'utf8');
    assert.match(
      helper,
      /CLI_PATH, \.\.\.safeCliArgs\(args\)\]/,
      'runCli passes every argument list through it',
    );
    const files = ['test', 'bench', 'src/cli', 'scripts'].flatMap((dir) => sources(join(root, dir)));
    const spawners = files.filter((file) => {
      const text = readFileSync(file, 'utf8');
      const spawnsCli = /lodestone\.js|process\.argv\[1\]/.test(text);
      const swarmCommand =
        /['"](download|seed|metadata|doctor|daemon)['"]|"\$cli" (download|seed|metadata|doctor|daemon)/.test(
          text,
        );
      return spawnsCli && swarmCommand;
    });
    assert.ok(
      spawners.length >= 3,
      `found the spawners: ${spawners.map((f) => relative(root, f)).join(', ')}`,
    );
    for (const file of spawners) {
      const text = readFileSync(file, 'utf8');
      assert.ok(
        text.includes('safeCliArgs(') || text.includes('--no-dht'),
        `${relative(root, file)} spawns download/seed without safeCliArgs or --no-dht`,
      );
    }
  });
});
