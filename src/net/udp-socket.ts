/**
 * One UDP socket per client (IPv4, and IPv6 when asked), shared by everything
 * that speaks UDP. Each datagram goes to the first route whose `accepts` says
 * yes, judged on its first bytes:
 * - uTP (BEP 29): low nibble of byte 0 is version 1, high nibble a type ≤ 4
 *   (`looksLikeUtp`), at least 20 bytes; routed to the UtpSocketManager.
 * - DHT (BEP 5, later): KRPC messages are bencoded dictionaries, byte 0 is `d` (0x64,
 *   version nibble 4: never uTP).
 * - UDP tracker responses (BEP 15, later): `action` (u32 0..3) then the transaction id of
 *   a request still pending; the tracker client's route accepts only its own ids.
 * Anything else is counted and dropped. A route's work per datagram must be bounded.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';

export interface UdpRoute {
  /** For diagnostics. */
  readonly name: string;
  /** Cheap test on the first bytes: is this datagram mine? */
  accepts(datagram: Buffer, from: RemoteInfo): boolean;
  receive(datagram: Buffer, from: RemoteInfo): void;
}

export interface UdpSocketOptions {
  /** Port for both families; 0 picks one (the IPv4 socket's, reused for IPv6). @default 0 */
  port?: number;
  /** IPv4 address to bind. @default '0.0.0.0' */
  host?: string;
  /** IPv6 address to bind as well (e.g. '::1'); none when omitted. */
  host6?: string;
  /** Kernel buffer sizes, bytes (uTP bursts need room). @default 4 MiB */
  bufferBytes?: number;
}

export class UdpSocket {
  readonly #v4: Socket;
  readonly #v6: Socket | undefined;
  readonly #routes: UdpRoute[] = [];
  /** Datagrams no route accepted. */
  unrouted = 0;
  #closed = false;

  private constructor(v4: Socket, v6: Socket | undefined) {
    this.#v4 = v4;
    this.#v6 = v6;
    for (const socket of [v4, v6]) socket?.on('message', (datagram, from) => this.#dispatch(datagram, from));
  }

  /** Binds the socket(s); rejects when the address is unusable. */
  static async bind(options: UdpSocketOptions = {}): Promise<UdpSocket> {
    const bufferBytes = options.bufferBytes ?? 4 * 1024 * 1024;
    const open = (type: 'udp4' | 'udp6', host: string, port: number) =>
      new Promise<Socket>((resolve, reject) => {
        const socket = createSocket({ type, ipv6Only: type === 'udp6' });
        socket.once('error', reject);
        socket.bind(port, host, () => {
          socket.off('error', reject);
          // A socket error after binding (ICMP unreachable on some systems) must not crash the process.
          socket.on('error', () => {});
          try {
            socket.setRecvBufferSize(bufferBytes);
            socket.setSendBufferSize(bufferBytes);
          } catch {
            // the kernel may cap buffer sizes; the defaults still work
          }
          resolve(socket);
        });
      });
    const v4 = await open('udp4', options.host ?? '0.0.0.0', options.port ?? 0);
    let v6: Socket | undefined;
    if (options.host6 !== undefined) {
      try {
        v6 = await open('udp6', options.host6, v4.address().port);
      } catch (error) {
        v4.close();
        throw error;
      }
    }
    return new UdpSocket(v4, v6);
  }

  /** The IPv4 socket's address and port. */
  address(): { address: string; port: number } {
    const { address, port } = this.#v4.address();
    return { address, port };
  }

  /** The socket has an IPv6 side (BEP 32 DHT, uTP over IPv6). */
  get hasV6(): boolean {
    return this.#v6 !== undefined;
  }

  /** Adds a route; routes are asked in the order they were added. */
  addRoute(route: UdpRoute): void {
    this.#routes.push(route);
  }

  removeRoute(route: UdpRoute): void {
    const at = this.#routes.indexOf(route);
    if (at >= 0) this.#routes.splice(at, 1);
  }

  /** Sends one datagram (fire and forget: UDP may lose it anyway). */
  send(datagram: Uint8Array, port: number, host: string): void {
    if (this.#closed) return;
    // A colon means IPv6 (cheaper than isIPv6's regular expression, which cost 1.5% of a uTP transfer).
    const socket = host.includes(':') ? this.#v6 : this.#v4;
    socket?.send(datagram, port, host);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#v4.close();
    this.#v6?.close();
  }

  #dispatch(datagram: Buffer, from: RemoteInfo): void {
    for (const route of this.#routes) {
      if (route.accepts(datagram, from)) {
        route.receive(datagram, from);
        return;
      }
    }
    this.unrouted++;
  }
}
