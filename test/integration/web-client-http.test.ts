/**
 * The HTTP details the stock Transmission web client depends on, over loopback against the RPC
 * server (an in-memory daemon): its requests carry `Content-Type: json` (jQuery's
 * `contentType: 'json'`, not a media type) and must be answered, not refused with 415; the
 * client's folder is reached from `/`, `/transmission` and `/transmission/web` (redirects to
 * `/transmission/web/`, where its relative `../rpc` resolves to the RPC); its files are served
 * with their types. The browser test (web-client-browser.test.ts) drives the real page.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startRpcServer } from '../../src/daemon/index.js';
import { MemoryDaemon } from '../helpers/memory-daemon.js';
import { rawRequest, sessionIdOf } from '../helpers/rpc-http.js';

const HOST = '127.0.0.97';

describe('the RPC server as the web client sees it', { timeout: 30_000 }, () => {
  let webRoot: string;
  before(async () => {
    webRoot = await mkdtemp(join(tmpdir(), 'web-client-http-'));
    await mkdir(join(webRoot, 'javascript'));
    await writeFile(join(webRoot, 'index.html'), '<html>stock client</html>');
    await writeFile(join(webRoot, 'javascript', 'remote.js'), 'var RPC = {};');
  });
  after(async () => {
    await rm(webRoot, { recursive: true, force: true });
  });

  test("a POST with Content-Type 'json' (jQuery's) is answered, not refused with 415", async () => {
    const api = new MemoryDaemon({ 'rpc-bind-address': HOST });
    const server = await startRpcServer(api, { configDir: '/cfg', webRoot });
    try {
      const id = await sessionIdOf(server.port, HOST);
      for (const type of ['json', 'application/json', 'text/plain; charset=UTF-8', 'not a type']) {
        const res = await rawRequest({
          port: server.port,
          host: HOST,
          headers: { 'X-Transmission-Session-Id': id, 'Content-Type': type },
          body: '{"method":"session-stats","tag":7}',
        });
        assert.equal(res.status, 200, `Content-Type ${type}: HTTP ${res.status} ${res.body}`);
        const answer = JSON.parse(res.body) as { result: string; tag: number };
        assert.equal(answer.result, 'success', `Content-Type ${type}`);
        assert.equal(answer.tag, 7);
      }
      // The session id check still comes first, whatever the type.
      const noId = await rawRequest({
        port: server.port,
        host: HOST,
        headers: { 'Content-Type': 'json' },
        body: '{"method":"session-stats"}',
      });
      assert.equal(noId.status, 409);
    } finally {
      await server.close();
    }
  });

  test('/, /transmission and /transmission/web lead to /transmission/web/; its files are served', async () => {
    const api = new MemoryDaemon({ 'rpc-bind-address': HOST });
    const server = await startRpcServer(api, { configDir: '/cfg', webRoot });
    try {
      const get = (path: string) => rawRequest({ port: server.port, host: HOST, method: 'GET', path });
      for (const path of ['/', '/transmission', '/transmission/web', '/elsewhere']) {
        const res = await get(path);
        assert.equal(res.status, 301, `${path}: HTTP ${res.status}`);
        assert.equal(res.headers.location, '/transmission/web/', path);
      }
      const index = await get('/transmission/web/');
      assert.equal(index.status, 200);
      assert.match(String(index.headers['content-type']), /^text\/html/);
      assert.match(index.body, /stock client/);
      const script = await get('/transmission/web/javascript/remote.js');
      assert.equal(script.status, 200);
      assert.match(String(script.headers['content-type']), /javascript/);
      // `../rpc` from the page is the RPC (a GET without session id: 409, as Transmission).
      assert.equal((await get('/transmission/rpc')).status, 409);
    } finally {
      await server.close();
    }
  });

  test('without a web root, /transmission/web is not a redirect loop', async () => {
    const api = new MemoryDaemon({ 'rpc-bind-address': HOST });
    const server = await startRpcServer(api, { configDir: '/cfg' });
    try {
      const res = await rawRequest({
        port: server.port,
        host: HOST,
        method: 'GET',
        path: '/transmission/web/',
      });
      assert.notEqual(res.status, 301);
    } finally {
      await server.close();
    }
  });
});
