import { UdpSocket } from '../../src/net/udp-socket.js';
import { UtpSocketManager, type UtpSocketManagerOptions } from '../../src/net/utp/utp-socket-manager.js';

/** A UDP socket on `host` with a uTP manager routed on it. */
export async function utpEndpoint(
  host: string,
  options: UtpSocketManagerOptions = {},
  port = 0,
): Promise<{ udp: UdpSocket; utp: UtpSocketManager; port: number; close(): void }> {
  const udp = await UdpSocket.bind({ host, port });
  const utp = new UtpSocketManager((datagram, p, h) => udp.send(datagram, p, h), options);
  udp.addRoute(utp.route);
  return {
    udp,
    utp,
    port: udp.address().port,
    close() {
      utp.close();
      udp.close();
    },
  };
}
