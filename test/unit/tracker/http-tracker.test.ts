import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import { encode } from '../../../src/bencode/index.js';
import { isLodestoneError, TrackerError } from '../../../src/errors.js';
import { MAX_PEERS_PER_ANSWER } from '../../../src/tracker/announce-common.js';
import { createTrackerClient } from '../../../src/tracker/create-tracker.js';
import { HttpTracker } from '../../../src/tracker/http-tracker.js';
import type { AnnounceRequest } from '../../../src/tracker/types.js';

const request: AnnounceRequest = {
  infoHash: Buffer.from('ff00112233445566778899aabbccddeeff001122', 'hex'),
  peerId: Buffer.from('-LS0001-aaaaaaaaaaaa'),
  port: 7000,
  uploaded: 0,
  downloaded: 0,
  left: 100,
  key: 42,
};

const okBody = encode({ interval: 900, peers: Buffer.from([127, 0, 0, 5, 0x1b, 0x58]) });

interface TestServer {
  url: string;
  connections: number;
  requests: string[];
  close(): Promise<void>;
}

const servers: TestServer[] = [];
after(async () => {
  await Promise.all(servers.map((server) => server.close()));
});

async function serve(handler: http.RequestListener): Promise<TestServer> {
  const server = http.createServer(handler);
  const state: TestServer = {
    url: '',
    connections: 0,
    requests: [],
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  server.on('connection', () => state.connections++);
  server.on('request', (req: http.IncomingMessage) => state.requests.push(req.url ?? ''));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  servers.push(state);
  return state;
}

async function rejectsTracker(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof TrackerError, `expected TrackerError, got ${String(error)}`);
    assert.match(error.message, pattern);
    return true;
  });
}

describe('HttpTracker', () => {
  test('announces with raw-byte query parameters and parses the answer', async () => {
    const server = await serve((_req, res) => res.end(okBody));
    const tracker = new HttpTracker(`${server.url}/announce?passkey=x`);
    const response = await tracker.announce({ ...request, event: 'started' });
    assert.deepEqual(response, { interval: 900, peers: [{ host: '127.0.0.5', port: 7000 }] });
    const sent = server.requests[0]!;
    assert.ok(
      sent.startsWith('/announce?passkey=x&info_hash=%FF%00%11%223DUfw%88%99%AA%BB%CC%DD%EE%FF%00%11%22&'),
    );
    assert.match(sent, /&event=started/);
    assert.match(sent, /&compact=1/);
  });

  test('opens a fresh connection for every announce', async () => {
    // Like opentracker: each answer is sent on its own connection; a reused socket would lose the request.
    const server = await serve((_req, res) => {
      res.setHeader('Connection', 'keep-alive');
      res.end(okBody);
    });
    const tracker = new HttpTracker(`${server.url}/announce`);
    await tracker.announce(request);
    await tracker.announce(request);
    await tracker.announce(request);
    assert.equal(server.requests.length, 3);
    assert.equal(server.connections, 3);
  });

  test('sends the tracker id it was given on later announces', async () => {
    const server = await serve((_req, res) =>
      res.end(encode({ interval: 900, peers: '', 'tracker id': 'abc 1' })),
    );
    const tracker = new HttpTracker(`${server.url}/announce`);
    await tracker.announce(request);
    await tracker.announce(request);
    assert.doesNotMatch(server.requests[0]!, /trackerid=/);
    assert.match(server.requests[1]!, /&trackerid=abc%201/);
  });

  test('a non-2xx status is a TrackerError naming the status', async () => {
    const server = await serve((_req, res) => {
      res.statusCode = 500;
      res.end('oops');
    });
    await rejectsTracker(new HttpTracker(`${server.url}/a`).announce(request), /HTTP 500/);
  });

  test('a failure reason sent with a 4xx status is reported', async () => {
    const server = await serve((_req, res) => {
      res.statusCode = 403;
      res.end(encode({ 'failure reason': 'unregistered torrent' }));
    });
    await rejectsTracker(
      new HttpTracker(`${server.url}/a`).announce(request),
      /unregistered torrent.*HTTP 403/,
    );
  });

  test('a failure reason with status 200 is a TrackerError with the reason', async () => {
    const server = await serve((_req, res) => res.end(encode({ 'failure reason': 'go away' })));
    await rejectsTracker(new HttpTracker(`${server.url}/a`).announce(request), /go away/);
  });

  test('follows a redirect, keeping the query', async () => {
    const server = await serve((req, res) => {
      if (req.url?.startsWith('/old')) {
        res.writeHead(302, { Location: `/new${req.url.slice(4)}` });
        res.end();
      } else {
        res.end(okBody);
      }
    });
    const response = await new HttpTracker(`${server.url}/old`).announce(request);
    assert.equal(response.interval, 900);
    assert.ok(server.requests[1]!.startsWith('/new?info_hash='));
  });

  test('gives up with "redirect loop" after 3 redirects', async () => {
    const server = await serve((req, res) => {
      res.writeHead(301, { Location: req.url ?? '/' });
      res.end();
    });
    await rejectsTracker(new HttpTracker(`${server.url}/loop`).announce(request), /redirect loop/);
    assert.equal(server.requests.length, 4);
  });

  test('a 50 MiB body is cut off at the limit without being buffered', async () => {
    let written = 0;
    const server = await serve((_req, res) => {
      const chunk = Buffer.alloc(1024 * 1024, 0x61);
      const pump = () => {
        while (written < 50 * 1024 * 1024 && !res.destroyed) {
          written += chunk.length;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      res.on('error', () => undefined);
      pump();
    });
    const started = Date.now();
    await rejectsTracker(new HttpTracker(`${server.url}/big`).announce(request), /larger than 2097152 bytes/);
    assert.ok(Date.now() - started < 5000);
    assert.ok(written < 50 * 1024 * 1024, `server wrote ${written} bytes`);
  });

  test('a declared oversized Content-Length is refused before reading', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Length': String(1024 * 1024) });
      res.write('d');
    });
    await rejectsTracker(
      new HttpTracker(`${server.url}/a`, { maxBodyBytes: 1000 }).announce(request),
      /larger than/,
    );
  });

  test('a tracker that never answers times out', async () => {
    const server = await serve(() => undefined);
    const started = Date.now();
    await rejectsTracker(
      new HttpTracker(`${server.url}/slow`, { timeoutMs: 200 }).announce(request),
      /did not answer within 200 ms/,
    );
    assert.ok(Date.now() - started < 2000);
  });

  test('a body that is not bencoded is a TrackerError', async () => {
    const server = await serve((_req, res) => res.end('<html><body>Bad Gateway</body></html>'));
    await rejectsTracker(new HttpTracker(`${server.url}/a`).announce(request), /not bencoded/);
  });

  test('a closed port is a TrackerError', async () => {
    const server = await serve(() => undefined);
    await server.close();
    await rejectsTracker(new HttpTracker(`${server.url}/a`).announce(request), /cannot reach tracker/);
  });

  test('an answer with 300,000 compact peers (1.8 MB) is read in bounded memory, no stack overflow', {
    timeout: 10_000,
  }, async () => {
    // Issue 15: ~350,000 peers were lost to "Maximum call stack size exceeded" (a spread into push).
    const count = 300_000;
    const compact = Buffer.alloc(count * 6);
    for (let i = 0; i < count; i++) {
      compact.writeUInt8(10, i * 6);
      compact.writeUIntBE(i + 1, i * 6 + 1, 3); // 10.0.0.1, 10.0.0.2, … all distinct
      compact.writeUInt16BE(6881, i * 6 + 4);
    }
    const body = encode({ interval: 900, peers: compact, peers6: Buffer.alloc(18 * 1000, 0x20) });
    assert.ok(body.length < 2 * 1024 * 1024, 'under the 2 MiB body limit');
    const server = await serve((_req, res) => res.end(body));
    const response = await new HttpTracker(`${server.url}/announce`).announce(request);
    // The address book holds 5000 in all: more from one answer is never turned into objects.
    assert.equal(response.peers.length, MAX_PEERS_PER_ANSWER);
    assert.deepEqual(response.peers[0], { host: '10.0.0.1', port: 6881 });
    assert.deepEqual(response.peers.at(-1), { host: '10.0.19.136', port: 6881 });
  });

  test('the caller signal and close() abort a pending announce', async () => {
    const server = await serve(() => undefined);
    const tracker = new HttpTracker(`${server.url}/a`);
    const controller = new AbortController();
    const byCaller = tracker.announce({ ...request, signal: controller.signal });
    const byClose = tracker.announce(request);
    setTimeout(() => controller.abort(), 20);
    const isAbort = (error: unknown) => isLodestoneError(error) && error.code === 'LODESTONE_ERR_ABORTED';
    await assert.rejects(byCaller, isAbort);
    tracker.close();
    await assert.rejects(byClose, isAbort);
    await assert.rejects(tracker.announce(request), isAbort);
  });
});

describe('createTrackerClient', () => {
  test('picks the client by scheme', () => {
    assert.equal(createTrackerClient('http://127.0.0.1:1/announce').constructor.name, 'HttpTracker');
    assert.equal(createTrackerClient('https://127.0.0.1:1/announce').constructor.name, 'HttpTracker');
    assert.equal(createTrackerClient('udp://127.0.0.1:1/announce').constructor.name, 'UdpTracker');
  });

  test('unsupported schemes and malformed URLs are TrackerErrors', () => {
    for (const url of ['wss://tracker.test/announce', 'ftp://x/', 'not a url', 'udp://127.0.0.1/announce']) {
      assert.throws(() => createTrackerClient(url), TrackerError, url);
    }
  });
});
