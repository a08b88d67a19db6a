/**
 * `--dht-bootstrap host:port` with a name: every address the name resolves to (IPv4 and IPv6, at
 * most 8) is asked, each in its own family, on loopback only. `localhost` is resolved by the
 * system (here /etc/hosts; ::1 is asked too when the system lists it); a name with many addresses
 * goes through an injected resolver that returns loopback addresses only.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { test } from 'node:test';
import { decodeKrpc } from '../../src/dht/krpc.js';
import { UdpSocket } from '../../src/net/udp-socket.js';
import { MAX_ADDRESSES_PER_NAME, type ResolveHost } from '../../src/session/dht-bootstrap-hosts.js';
import { DhtService } from '../../src/session/dht-service.js';
import { FakeClock } from '../helpers/fake-clock.js';

/** A silent DHT node at `host:port` that records the queries it hears. */
async function listener(
  t: { after(fn: () => unknown): void },
  host: string,
  port: number,
): Promise<{ socket: Socket; heard: string[] }> {
  const socket = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4', ipv6Only: host.includes(':') });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, resolve);
  });
  t.after(() => socket.close());
  const heard: string[] = [];
  socket.on('message', (datagram) => {
    const query = decodeKrpc(datagram);
    if (query.kind === 'query') heard.push(query.method);
  });
  return { socket, heard };
}

/** A started DhtService on a loopback socket (`bind`), bootstrapping from `entry` through `resolve`. */
async function startService(
  t: { after(fn: () => unknown): void },
  bind: { host: string; host6?: string },
  entry: string,
  resolve: ResolveHost,
): Promise<DhtService> {
  const udp = await UdpSocket.bind({ ...bind, port: 0 });
  t.after(() => udp.close());
  const service = new DhtService(udp, { bootstrap: [entry] }, undefined, new FakeClock(), resolve);
  t.after(() => service.close());
  await service.start();
  return service;
}

async function waitFor(until: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!until() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.ok(until(), what);
}

test('localhost:port asks every address the system gives for localhost', { timeout: 20_000 }, async (t) => {
  const system = (await lookup('localhost', { all: true })).map((a) => a.address);
  const v4 = await listener(t, '127.0.0.1', 0);
  const port = v4.socket.address().port;
  // The same port on ::1, when localhost has an IPv6 address here.
  const v6 = system.includes('::1') ? await listener(t, '::1', port) : undefined;
  const udp = await UdpSocket.bind({ host: '127.0.33.30', host6: '::1', port: 0 }); // both families
  t.after(() => udp.close());
  const service = new DhtService(udp, { bootstrap: [`localhost:${port}`] }, undefined, new FakeClock());
  t.after(() => service.close());
  await service.start();
  await waitFor(() => v4.heard.length > 0 && (v6 === undefined || v6.heard.length > 0), 'each address asked');
  assert.deepEqual(v4.heard, ['find_node']);
  if (v6) assert.deepEqual(v6.heard, ['find_node']);
  assert.equal(service.bootstrapContacts, system.filter((a) => a === '127.0.0.1' || a === '::1').length);
});

test('a name with IPv4 and IPv6 addresses: all are asked, each in its family, at most 8', {
  timeout: 20_000,
}, async (t) => {
  const v6 = await listener(t, '::1', 0);
  const port = v6.socket.address().port;
  const v4 = await Promise.all(Array.from({ length: 10 }, (_, i) => listener(t, `127.0.33.${i + 1}`, port)));
  const asked: { host: string; family: number }[] = [];
  // The resolver answers IPv4 first, then IPv6 (as getaddrinfo often does), ten IPv4 addresses.
  const resolve = async (host: string, family: 0 | 4 | 6) => {
    asked.push({ host, family });
    return [
      { address: '127.0.33.1' },
      { address: '::1' },
      ...v4.slice(1).map((_, i) => ({ address: `127.0.33.${i + 2}` })),
    ];
  };
  const service = await startService(
    t,
    { host: '127.0.33.31', host6: '::1' },
    `router.example:${port}`,
    resolve,
  );
  const heardBy = () => v4.filter((l) => l.heard.length > 0).length + (v6.heard.length > 0 ? 1 : 0);
  await waitFor(() => heardBy() >= MAX_ADDRESSES_PER_NAME, `${MAX_ADDRESSES_PER_NAME} addresses asked`);
  await new Promise((resolve) => setTimeout(resolve, 100)); // none more comes
  assert.deepEqual(asked, [{ host: 'router.example', family: 0 }], 'one resolution, both families');
  assert.deepEqual(v6.heard, ['find_node'], 'the IPv6 address is asked over IPv6');
  assert.equal(heardBy(), MAX_ADDRESSES_PER_NAME, 'at most 8 addresses of one name');
  assert.equal(service.bootstrapContacts, MAX_ADDRESSES_PER_NAME);
});

test('an IPv4-only socket asks DNS for IPv4 addresses and never sends to an IPv6 one', {
  timeout: 20_000,
}, async (t) => {
  const v4 = await listener(t, '127.0.33.20', 0);
  const port = v4.socket.address().port;
  const families: number[] = [];
  const resolve = async (_host: string, family: 0 | 4 | 6) => {
    families.push(family);
    return [{ address: '::1' }, { address: '127.0.33.20' }];
  };
  const service = await startService(t, { host: '127.0.33.21' }, `router.example:${port}`, resolve);
  await waitFor(() => v4.heard.length > 0, 'the IPv4 address asked');
  assert.deepEqual(families, [4]);
  assert.equal(service.bootstrapContacts, 1);
});
