/**
 * The client's DHT socket glue against hostile datagrams (loopback): garbage that starts with `d`,
 * oversized datagrams, bad KRPC are dropped and counted; the node still answers a valid ping, and
 * nothing reaches the host process. Also: with uTP off, the client opens the UDP socket for the
 * DHT alone; the library default is no DHT at all.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { test } from 'node:test';
import type { PeerAddress } from '../../src/address.js';
import { encode } from '../../src/bencode/index.js';
import { decodeKrpc, encodeKrpc } from '../../src/dht/krpc.js';
import { UdpSocket } from '../../src/net/udp-socket.js';
import { Client } from '../../src/session/client.js';
import { BOOTSTRAP_RETRY_MS, DhtService } from '../../src/session/dht-service.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { nextLoopbackAddress } from '../helpers/real-clients/index.js';

test('hostile datagrams are dropped and counted; a valid ping is still answered', {
  timeout: 20_000,
}, async (t) => {
  const host = nextLoopbackAddress();
  const client = new Client({ port: 0, bindAddress: host, hashWorkers: 1, utp: false, dht: {} });
  t.after(() => client.close());
  await client.listen();
  assert.ok(client.dhtPort > 0, 'a UDP socket for the DHT alone (uTP off)');
  assert.equal(client.utpPort, 0, 'and no uTP on it');
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, nextLoopbackAddress(), resolve));
  t.after(() => socket.close());
  const replies: Buffer[] = [];
  socket.on('message', (datagram) => replies.push(datagram));
  const send = (bytes: Uint8Array) => socket.send(bytes, client.dhtPort, host);
  const hostile = [
    Buffer.from('d'),
    Buffer.from('de'),
    Buffer.from('d1:y1:q1:q4:ping1:t2:aae'), // no arguments, no id
    Buffer.from('d1:ad2:id3:abce1:q4:ping1:t2:aa1:y1:qe'), // an id of 3 bytes
    Buffer.concat([Buffer.from('d1:xi'), Buffer.alloc(60_000, 0x31), Buffer.from('ee')]),
    Buffer.from(
      encode({ y: 'q', q: 'ping', t: 'ab', a: new Map([['id', new Uint8Array(20)]]), z: [[[[[[[]]]]]]] }),
    ),
    Buffer.from('d'.repeat(1000)),
  ];
  for (const datagram of hostile) send(datagram);
  const tid = new Uint8Array([0x42, 0x43]);
  send(encodeKrpc({ kind: 'query', tid, id: new Uint8Array(20).fill(9), readOnly: false, method: 'ping' }));
  const deadline = Date.now() + 5_000;
  const answered = () =>
    replies.map((r) => decodeKrpc(r)).find((m) => m.kind === 'response' && Buffer.from(m.tid).equals(tid));
  while (!answered() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.ok(answered(), 'the valid ping is answered');
  // A malformed query (an id of 3 bytes, tid "aa") is answered with KRPC error 203.
  const malformed = replies
    .map((r) => decodeKrpc(r))
    .find((m) => m.kind === 'error' && Buffer.from(m.tid).toString() === 'aa');
  assert.equal(malformed?.kind === 'error' ? malformed.code : undefined, 203);
  assert.ok((client.dhtStats?.badDatagrams ?? 0) >= 4, `dropped: ${client.dhtStats?.badDatagrams}`);
});

test('the library default is no DHT: no UDP socket for it, no DHT stats', { timeout: 10_000 }, async (t) => {
  const client = new Client({ port: 0, bindAddress: nextLoopbackAddress(), hashWorkers: 1, utp: false });
  t.after(() => client.close());
  await client.listen();
  assert.equal(client.dhtPort, 0);
  assert.equal(client.dhtStats, undefined);
});

test('BEP 32: over IPv6 (::1) when the client listens on every address', { timeout: 20_000 }, async (t) => {
  // No bindAddress: the UDP socket has an IPv6 side ('::'); all traffic still goes to ::1.
  const a = new Client({ port: 0, hashWorkers: 1, utp: false, dht: {} });
  t.after(() => a.close());
  await a.listen();
  const b = new Client({ port: 0, hashWorkers: 1, utp: false, dht: { bootstrap: [`[::1]:${a.dhtPort}`] } });
  t.after(() => b.close());
  const ready = new Promise<{ nodes: number }>((resolve) => b.once('dht-ready', resolve));
  await b.listen();
  const { nodes } = await ready;
  assert.ok(nodes >= 1, 'the IPv6 node answered and joined the table');
  assert.ok((a.dhtStats?.queriesReceived ?? 0) >= 1);
});

test('a bootstrap nobody answered is tried again a minute later (an empty table never fills alone)', {
  timeout: 20_000,
}, async (t) => {
  const silent = createSocket('udp4');
  let heard = 0;
  silent.on('message', () => heard++);
  const silentHost = nextLoopbackAddress();
  await new Promise<void>((resolve) => silent.bind(0, silentHost, resolve));
  t.after(() => silent.close());
  const udp = await UdpSocket.bind({ host: nextLoopbackAddress(), port: 0 });
  t.after(() => udp.close());
  const clock = new FakeClock();
  const service = new DhtService(
    udp,
    { bootstrap: ['no port here', `${silentHost}:${silent.address().port}`] },
    undefined,
    clock,
  );
  const warnings: string[] = [];
  service.on('warning', ({ message }) => warnings.push(message));
  t.after(() => service.close());
  let ready = false;
  service.once('ready', () => {
    ready = true;
  });
  await service.start();
  const settle = async (until: () => boolean, step: number) => {
    for (let i = 0; i < 200 && !until(); i++) {
      clock.advance(step);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    assert.ok(until());
  };
  await settle(() => heard === 1 && ready, 500);
  assert.equal(service.stats()?.nodes, 0);
  clock.advance(BOOTSTRAP_RETRY_MS - 1);
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(heard, 1, 'not before the minute');
  await settle(() => heard === 2, 1);
  assert.deepEqual(
    warnings,
    ['DHT bootstrap "no port here" is not host:port'],
    'said once, not at each retry',
  );
});

/**
 * A node that answers everything at once: find_node and get_peers with a contact that never
 * answers (a dead node, as in saved tables and real routers' answers), get_peers with one peer.
 * On a fake clock that is never advanced, the dead node never times out: bootstrap never ends and
 * neither does any lookup, so whatever reaches `onPeers` came before both.
 */
async function answeringNode(t: { after(fn: () => unknown): void }) {
  const dead = createSocket('udp4');
  const deadHost = nextLoopbackAddress();
  await new Promise<void>((resolve) => dead.bind(0, deadHost, resolve));
  t.after(() => dead.close());
  const socket = createSocket('udp4');
  const host = nextLoopbackAddress();
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  t.after(() => socket.close());
  const methods: string[] = [];
  const id = new Uint8Array(20).fill(0x5a);
  const deadContact = { id: new Uint8Array(20).fill(0x5b), host: deadHost, port: dead.address().port };
  socket.on('message', (datagram, from) => {
    const query = decodeKrpc(datagram);
    if (query.kind !== 'query') return;
    methods.push(query.method);
    const reply =
      query.method === 'get_peers'
        ? {
            nodes: [deadContact],
            values: [{ host: '127.0.0.77', port: 6881 }],
            token: new Uint8Array([1, 2, 3, 4]),
          }
        : query.method === 'find_node'
          ? { nodes: [deadContact] }
          : {};
    socket.send(encodeKrpc({ kind: 'response', tid: query.tid, id, ...reply }), from.port, from.address);
  });
  return { address: `${host}:${socket.address().port}`, methods };
}

for (const announcePort of [0, 51413]) {
  test(`a torrent's lookup starts once the table holds a node, and peers come as each response brings them (announcePort ${announcePort})`, {
    timeout: 20_000,
  }, async (t) => {
    const node = await answeringNode(t);
    const udp = await UdpSocket.bind({ host: nextLoopbackAddress(), port: 0 });
    t.after(() => udp.close());
    const clock = new FakeClock(); // never advanced: bootstrap and the lookup wait on the dead node
    const service = new DhtService(udp, { bootstrap: [node.address] }, undefined, clock);
    t.after(() => service.close());
    await service.start();
    const learned: PeerAddress[] = [];
    service.forTorrent().track(new Uint8Array(20).fill(3), {
      announcePort,
      wantsPeers: () => true,
      onPeers: (peers) => learned.push(...peers),
    });
    const deadline = Date.now() + 5_000;
    while (learned.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(service.ready, false, 'bootstrap has not ended (the dead node never timed out)');
    assert.ok(node.methods.includes('get_peers'), `queries heard: ${node.methods.join(', ')}`);
    assert.deepEqual(learned, [{ host: '127.0.0.77', port: 6881 }], 'the peer, before the lookup ended');
  });
}

test('an IPv6-only socket (--bind ::1): an IPv4 bootstrap node is named in a warning, the IPv6 one is asked', {
  timeout: 20_000,
}, async (t) => {
  const node = createSocket({ type: 'udp6', ipv6Only: true });
  await new Promise<void>((resolve) => node.bind(0, '::1', resolve));
  t.after(() => node.close());
  const heard: string[] = [];
  node.on('message', (datagram) => {
    const query = decodeKrpc(datagram);
    if (query.kind === 'query') heard.push(query.method);
  });
  const udp = await UdpSocket.bind({ host: '::1', port: 0 });
  t.after(() => udp.close());
  assert.equal(udp.hasFamily('IPv4'), false);
  const service = new DhtService(
    udp,
    { bootstrap: ['127.0.0.1:6881', `[::1]:${node.address().port}`] },
    undefined,
    new FakeClock(),
  );
  const warnings: string[] = [];
  service.on('warning', ({ message }) => warnings.push(message));
  t.after(() => service.close());
  await service.start();
  const deadline = Date.now() + 5_000;
  while (heard.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(heard, ['find_node'], 'the IPv6 node was asked');
  assert.deepEqual(warnings, [
    'DHT bootstrap 127.0.0.1:6881: an IPv4 node, but the DHT socket has no IPv4 side (see --bind)',
  ]);
  assert.equal(service.bootstrapContacts, 1, 'only the reachable contact counts');
});

test('a first round that found nobody on a thin table runs again when bootstrap ends, not a minute later', {
  timeout: 20_000,
}, async (t) => {
  // A node that knows nobody and no peers: every answer is empty.
  const socket = createSocket('udp4');
  const host = nextLoopbackAddress();
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  t.after(() => socket.close());
  const methods: string[] = [];
  socket.on('message', (datagram, from) => {
    const query = decodeKrpc(datagram);
    if (query.kind !== 'query') return;
    methods.push(query.method);
    const reply = query.method === 'get_peers' ? { token: new Uint8Array([1, 2]) } : {};
    socket.send(
      encodeKrpc({ kind: 'response', tid: query.tid, id: new Uint8Array(20).fill(0x33), ...reply }),
      from.port,
      from.address,
    );
  });
  const udp = await UdpSocket.bind({ host: nextLoopbackAddress(), port: 0 });
  t.after(() => udp.close());
  const clock = new FakeClock(); // never advanced: the one-minute retry never comes
  const service = new DhtService(udp, { bootstrap: [`${host}:${socket.address().port}`] }, undefined, clock);
  t.after(() => service.close());
  await service.start();
  service.forTorrent().track(new Uint8Array(20).fill(4), {
    announcePort: 0,
    wantsPeers: () => true,
    onPeers: () => {},
  });
  const getPeers = () => methods.filter((m) => m === 'get_peers').length;
  const deadline = Date.now() + 5_000;
  while ((getPeers() < 2 || !service.ready) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
  assert.equal(service.ready, true, `bootstrap ended (${methods.join(', ')})`);
  assert.equal(getPeers(), 2, `one round on the first node, one when bootstrap ended: ${methods.join(', ')}`);
});
