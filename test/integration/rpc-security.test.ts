/**
 * The RPC's HTTP rules, as Transmission applies them, over loopback: CSRF session id (409),
 * basic auth (401), client address whitelist (403), Host header against DNS rebinding (421),
 * body limit (413), malformed and too-deep JSON (an error result), and a non-loopback bind
 * without a password refused. After each refusal the server still answers.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type RpcServer, startRpcServer } from '../../src/daemon/index.js';
import { hashRpcPassword } from '../../src/daemon/rpc-password.js';
import type { DaemonSettings } from '../../src/daemon/settings-types.js';
import { MemoryDaemon, makeTorrentBytes } from '../helpers/memory-daemon.js';
import { rawRequest, sessionIdOf } from '../helpers/rpc-http.js';

const HOST = '127.0.0.41';

async function withServer(
  settings: Partial<DaemonSettings>,
  run: (server: RpcServer, api: MemoryDaemon) => Promise<void>,
  extra: { webRoot?: string; onSessionClose?: () => void } = {},
): Promise<void> {
  const api = new MemoryDaemon({ 'rpc-bind-address': HOST, ...settings });
  const server = await startRpcServer(api, { configDir: '/cfg', ...extra });
  try {
    await run(server, api);
  } finally {
    await server.close();
  }
}

async function stillAnswers(port: number, headers: Record<string, string> = {}): Promise<void> {
  const id = await sessionIdOf(port, HOST, headers);
  const res = await rawRequest({
    port,
    host: HOST,
    headers: { ...headers, 'X-Transmission-Session-Id': id },
    body: '{"method":"session-stats"}',
  });
  assert.equal(res.status, 200);
  assert.equal(JSON.parse(res.body).result, 'success');
}

describe('RPC security over HTTP', { timeout: 60_000 }, () => {
  let webRoot: string;
  before(async () => {
    webRoot = await mkdtemp(join(tmpdir(), 'rpc-web-'));
    await writeFile(join(webRoot, 'index.html'), '<html>lodestone web test</html>');
  });
  after(async () => {
    await rm(webRoot, { recursive: true, force: true });
  });

  test('missing or wrong session id: 409 with the current id in header and body', async () => {
    await withServer({}, async ({ port }) => {
      const missing = await rawRequest({ port, host: HOST, body: '{"method":"session-get"}' });
      assert.equal(missing.status, 409);
      const id = missing.headers['x-transmission-session-id'];
      assert.equal(typeof id, 'string');
      assert.ok(missing.body.includes(`X-Transmission-Session-Id: ${id}`));
      assert.match(missing.body, /^<h1>409: Conflict<\/h1>/);
      const wrong = await rawRequest({
        port,
        host: HOST,
        headers: { 'X-Transmission-Session-Id': 'nope' },
        body: '{}',
      });
      assert.equal(wrong.status, 409);
      const right = await rawRequest({
        port,
        host: HOST,
        headers: { 'X-Transmission-Session-Id': String(id) },
        body: '{"method":"session-get","tag":5}',
      });
      assert.equal(right.status, 200);
      assert.equal(right.headers['x-transmission-session-id'], id);
      const answer = JSON.parse(right.body);
      assert.equal(answer.result, 'success');
      assert.equal(answer.tag, 5);
      assert.equal(answer.arguments['session-id'], id);
    });
  });

  test('wrong or missing password: 401 with Basic realm="Transmission"', async () => {
    const settings = {
      'rpc-authentication-required': true,
      'rpc-username': 'me',
      'rpc-password': hashRpcPassword('secret'),
    };
    await withServer(settings, async ({ port }) => {
      const auth = (u: string, p: string) => ({
        Authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`,
      });
      for (const headers of [{}, auth('me', 'wrong'), auth('you', 'secret')]) {
        const res = await rawRequest({ port, host: HOST, headers, body: '{}' });
        assert.equal(res.status, 401);
        assert.equal(res.headers['www-authenticate'], 'Basic realm="Transmission"');
      }
      await stillAnswers(port, auth('me', 'secret'));
    });
  });

  test("a client outside rpc-whitelist: 403 with Transmission's message", async () => {
    await withServer({ 'rpc-whitelist': '127.0.0.1,127.0.0.41' }, async ({ port }) => {
      const res = await rawRequest({ port, host: HOST, localAddress: '127.0.0.42', body: '{}' });
      assert.equal(res.status, 403);
      assert.match(res.body, /Unauthorized IP Address/);
      const allowed = await rawRequest({ port, host: HOST, localAddress: '127.0.0.41', body: '{}' });
      assert.equal(allowed.status, 409);
    });
  });

  test('a foreign Host header: 421 (DNS rebinding); whitelisted names and IP literals pass', async () => {
    await withServer({ 'rpc-host-whitelist': 'nas.lan' }, async ({ port }) => {
      const evil = await rawRequest({
        port,
        host: HOST,
        headers: { Host: `evil.example:${port}` },
        body: '{}',
      });
      assert.equal(evil.status, 421);
      assert.match(evil.body, /DNS Rebinding/);
      for (const host of [`nas.lan:${port}`, `localhost:${port}`, `${HOST}:${port}`]) {
        const ok = await rawRequest({ port, host: HOST, headers: { Host: host }, body: '{}' });
        assert.equal(ok.status, 409, host);
      }
      await stillAnswers(port);
    });
  });

  test('an oversized body: 413; then the server still answers', async () => {
    await withServer({}, async ({ port }) => {
      const id = await sessionIdOf(port, HOST);
      const body = `{"method":"torrent-add","arguments":{"metainfo":"${'A'.repeat(11 * 1024 * 1024)}"}}`;
      const res = await rawRequest({ port, host: HOST, headers: { 'X-Transmission-Session-Id': id }, body });
      assert.equal(res.status, 413);
      await stillAnswers(port);
    });
  });

  test('a base64 metainfo of several MiB fits the body limit', async () => {
    await withServer({}, async ({ port }, api) => {
      const id = await sessionIdOf(port, HOST);
      // ~6 MiB of torrent (a large file list), ~8 MiB as base64.
      const files = Array.from({ length: 40_000 }, (_, i) => ({
        path: ['d', `${'f'.repeat(120)}${i}`],
        length: 1,
      }));
      const bytes = makeTorrentBytes('big', files);
      assert.ok(bytes.length > 5 * 1024 * 1024);
      const body = JSON.stringify({
        method: 'torrent-add',
        arguments: { metainfo: Buffer.from(bytes).toString('base64') },
      });
      const res = await rawRequest({ port, host: HOST, headers: { 'X-Transmission-Session-Id': id }, body });
      assert.equal(res.status, 200);
      assert.equal(JSON.parse(res.body).result, 'success');
      assert.equal(api.callsOf('add').length, 1);
    });
  });

  test('malformed JSON and too-deep JSON: HTTP 200 with an error result, as Transmission', async () => {
    await withServer({}, async ({ port }) => {
      const id = await sessionIdOf(port, HOST);
      const headers = { 'X-Transmission-Session-Id': id };
      const bad = await rawRequest({ port, host: HOST, headers, body: '{"method": "session-get",' });
      assert.equal(bad.status, 200);
      assert.deepEqual(JSON.parse(bad.body), { arguments: {}, result: 'no method name' });
      const deep = await rawRequest({
        port,
        host: HOST,
        headers,
        body: `{"method":"session-get","arguments":${'['.repeat(200_000)}`,
      });
      assert.equal(deep.status, 200);
      assert.deepEqual(JSON.parse(deep.body), { arguments: {}, result: 'request nests too deeply' });
      const empty = await rawRequest({ port, host: HOST, headers });
      assert.equal(JSON.parse(empty.body).result, 'no method name');
      await stillAnswers(port);
    });
  });

  test('GET of the RPC URL is 405; other paths redirect to the web client, which is served', async () => {
    await withServer(
      {},
      async ({ port }) => {
        const id = await sessionIdOf(port, HOST);
        const get = await rawRequest({
          port,
          host: HOST,
          method: 'GET',
          headers: { 'X-Transmission-Session-Id': id },
        });
        assert.equal(get.status, 405);
        const root = await rawRequest({ port, host: HOST, method: 'GET', path: '/' });
        assert.equal(root.status, 301);
        assert.equal(root.headers.location, '/transmission/web/');
        const web = await rawRequest({ port, host: HOST, method: 'GET', path: '/transmission/web/' });
        assert.equal(web.status, 200);
        assert.match(web.body, /lodestone web test/);
        const outside = await rawRequest({
          port,
          host: HOST,
          method: 'GET',
          path: '/transmission/web/../../../etc/passwd',
        });
        assert.notEqual(outside.status, 200);
      },
      { webRoot },
    );
  });

  test('a custom rpc-url; session-close calls back after answering', async () => {
    let closed = 0;
    await withServer(
      { 'rpc-url': '/lode' },
      async ({ port }) => {
        const id = await sessionIdOf(port, HOST);
        const wrongUrl = await rawRequest({
          port,
          host: HOST,
          headers: { 'X-Transmission-Session-Id': id },
          body: '{}',
        });
        assert.equal(wrongUrl.status, 301);
        assert.equal(wrongUrl.headers.location, '/lode/web/');
        const res = await rawRequest({
          port,
          host: HOST,
          path: '/lode/rpc',
          headers: { 'X-Transmission-Session-Id': id },
          body: '{"method":"session-close"}',
        });
        assert.equal(JSON.parse(res.body).result, 'success');
        for (let i = 0; i < 50 && closed === 0; i++) await new Promise((r) => setImmediate(r));
        assert.equal(closed, 1);
      },
      { onSessionClose: () => closed++ },
    );
  });

  test('torrent-add of an http URL fetches it; a too-large one is an error result', async () => {
    const torrent = makeTorrentBytes('over-http', [{ path: ['h.bin'], length: 100 }]);
    const web = createServer((req, res) => {
      if (req.url === '/ok.torrent') res.end(torrent);
      else if (req.url === '/chunked.torrent') {
        // No Content-Length: the limit must hold while reading.
        const chunk = Buffer.alloc(1024 * 1024, 0x41);
        let sent = 0;
        const more = () => {
          while (sent < 12 && !res.destroyed) {
            sent++;
            if (!res.write(chunk)) return void res.once('drain', more);
          }
          res.end();
        };
        more();
      } else {
        res.setHeader('Content-Length', String(20 * 1024 * 1024));
        res.end();
      }
    });
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.43', resolve));
    const webPort = (web.address() as { port: number }).port;
    try {
      await withServer({}, async ({ port }) => {
        const id = await sessionIdOf(port, HOST);
        const add = async (url: string) =>
          JSON.parse(
            (
              await rawRequest({
                port,
                host: HOST,
                headers: { 'X-Transmission-Session-Id': id },
                body: JSON.stringify({ method: 'torrent-add', arguments: { filename: url } }),
              })
            ).body,
          );
        const ok = await add(`http://127.0.0.43:${webPort}/ok.torrent`);
        assert.equal(ok.arguments['torrent-added'].name, 'over-http');
        const big = await add(`http://127.0.0.43:${webPort}/big.torrent`);
        assert.match(big.result, /larger than 10485760 bytes/);
        const chunked = await add(`http://127.0.0.43:${webPort}/chunked.torrent`);
        assert.match(chunked.result, /larger than 10485760 bytes/);
      });
    } finally {
      web.closeAllConnections();
      await new Promise((resolve) => web.close(resolve));
    }
  });

  test('refuses to listen beyond loopback without authentication', async () => {
    const api = new MemoryDaemon({ 'rpc-bind-address': '0.0.0.0' });
    const started = startRpcServer(api, { configDir: '/cfg' });
    // A server that wrongly started is closed, so the failure is prompt and leaves nothing listening.
    started.then((server) => server.close()).catch(() => {});
    await assert.rejects(started, (error: Error & { code?: string }) => {
      assert.equal(error.code, 'LODESTONE_ERR_RPC');
      assert.match(error.message, /without authentication/);
      return true;
    });
  });
});
