/**
 * BEP 32 over real sockets on loopback: three Lodestone DHT services, each on its own 127.0.0.x
 * and on ::1 (the same UDP port). The announcer joins through both of the store's addresses and
 * announces in both families; a third node that joins through IPv4 alone learns the IPv6 nodes
 * (`want` n4 n6 at bootstrap), finds the announcer's IPv4 and IPv6 addresses, and its saved state
 * keeps both tables.
 *
 * On loopback every IPv6 node is ::1, and a table (like a lookup) keeps one entry per address, so
 * each IPv6 table here holds one node: the store is the node the others reach over IPv6.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PeerAddress } from '../../src/address.js';
import { decodeDhtState } from '../../src/dht/state.js';
import { UdpSocket } from '../../src/net/udp-socket.js';
import { DhtService, type DhtStateStore } from '../../src/session/dht-service.js';
import { nextLoopbackAddress } from '../helpers/real-clients/index.js';

async function node(
  bootstrap: string[],
  store?: DhtStateStore,
): Promise<{ service: DhtService; host: string; port: number; close(): Promise<void> }> {
  const host = nextLoopbackAddress();
  const udp = await UdpSocket.bind({ host, host6: '::1', port: 0 });
  const service = new DhtService(udp, { bootstrap }, store);
  const ready = new Promise<void>((resolve) => service.once('ready', () => resolve()));
  await service.start();
  await ready;
  return {
    service,
    host,
    port: udp.address().port,
    close: async () => {
      await service.close();
      udp.close();
    },
  };
}

test('BEP 32: announced in both families; a node joining over IPv4 finds the IPv6 peer too', {
  timeout: 30_000,
}, async (t) => {
  const store = await node([]);
  t.after(() => store.close());
  assert.ok(store.service.stats()?.nodes === 0);

  const announcer = await node([`${store.host}:${store.port}`, `[::1]:${store.port}`]);
  t.after(() => announcer.close());
  assert.equal(announcer.service.stats()?.nodes, 2, 'the store in the IPv4 and the IPv6 table');
  const infoHash = new Uint8Array(20).fill(0x5a);
  const announced = await announcer.service.announce(infoHash, 7001, () => {});
  assert.equal(announced?.announced, 2, 'announced over IPv4 and over IPv6');

  let saved: Uint8Array | undefined;
  const memory: DhtStateStore = {
    load: async () => undefined,
    save: async (bytes) => {
      saved = bytes;
    },
  };
  // Joins through the announcer's IPv4 address only.
  const seeker = await node([`${announcer.host}:${announcer.port}`], memory);
  const found: PeerAddress[] = [];
  const result = await seeker.service.getPeers(infoHash, (peers) => found.push(...peers));
  const hosts = found.map((peer) => `${peer.host}|${peer.port}`).sort();
  assert.deepEqual(hosts, [`${announcer.host}|7001`, '::1|7001'], `found ${hosts}`);
  assert.deepEqual(
    result?.peers.map((peer) => peer.host).sort(),
    [announcer.host, '::1'],
    'the lookup result lists both',
  );

  await seeker.close();
  assert.ok(saved, 'the table was saved at close');
  const state = decodeDhtState(saved);
  const families = new Set(state.nodes.map((n) => (n.host.includes(':') ? 6 : 4)));
  assert.deepEqual([...families].sort(), [4, 6], `saved nodes: ${state.nodes.map((n) => n.host)}`);
});
