import type { EventEmitter } from 'node:events';
import { UdpSocket } from '../net/udp-socket.js';
import { UtpError } from '../net/utp/utp-error.js';
import { UtpSocketManager } from '../net/utp/utp-socket-manager.js';
import type { UtpDialer } from '../peer/dial-transport.js';
import { type ListenerEvents, PeerListener } from '../peer/listener.js';
import type { ClientEvents, ClientOptions } from './client-types.js';
import { type ClientDhtStats, type DhtOptions, DhtService } from './dht-service.js';
import { dhtStateFile } from './dht-state-file.js';

/** What a client's transports need of the client. */
export interface ClientTransportsContext {
  options: ClientOptions;
  /** The client, for its 'dht-ready' and 'dht-warning' events. */
  events: EventEmitter<ClientEvents>;
  /** The torrent whose MSE req2 hash this is (see ClientShared.lookupReq2), as its shared secret's key. */
  lookupReq2: (req2: Buffer) => Uint8Array | undefined;
  /** A peer finished its handshake (TCP or uTP, plain or MSE): route it to its torrent or destroy it. */
  onHandshake: (...args: ListenerEvents['handshake']) => void;
}

/**
 * A client's sockets: the TCP listener, the UDP socket on its port shared by uTP (BEP 29) and
 * the DHT (BEP 5), the uTP socket manager that dials and accepts over it, and the DHT node.
 */
export class ClientTransports {
  readonly #context: ClientTransportsContext;
  #listener: PeerListener | undefined;
  #port = 0;
  #udp: UdpSocket | undefined;
  #utp: UtpSocketManager | undefined;
  #dht: DhtService | undefined;
  /** Dials over the client's uTP socket once it is open (TCP only before `listen`). */
  readonly utpDialer: UtpDialer = (host, port, signal) => {
    const utp = this.#utp;
    if (utp === undefined || !this.#udp?.hasFamily(host.includes(':') ? 'IPv6' : 'IPv4'))
      return Promise.reject(new UtpError('refused', 'no uTP socket for this address family'));
    return utp.connect(host, port, signal);
  };

  constructor(context: ClientTransportsContext) {
    this.#context = context;
  }

  /** The port we listen on (0 before `listen` or when not listening). */
  get port(): number {
    return this.#port;
  }

  /** Incoming connections still handshaking now, and the most at once since `listen`. */
  get pendingHandshakes(): { now: number; peak: number } {
    return {
      now: this.#listener?.pendingHandshakes ?? 0,
      peak: this.#listener?.peakPendingHandshakes ?? 0,
    };
  }

  /** The UDP port uTP peers reach us on: the listener's port; 0 when there is no UDP socket. */
  get utpPort(): number {
    // The socket may be open for the DHT alone (utp: false): then there is no uTP port.
    return this.#utp ? (this.#udp?.address().port ?? 0) : 0;
  }

  /** The DHT node, once `listen` started it. */
  get dht(): DhtService | undefined {
    return this.#dht;
  }

  /** The DHT's counters, or undefined when it is off. */
  get dhtStats(): ClientDhtStats | undefined {
    return this.#dht?.stats();
  }

  /** The DHT's UDP port (0 when the DHT is off). */
  get dhtPort(): number {
    return this.#dht ? this.#dht.port : 0;
  }

  /** Listens (TCP, then the UDP socket for uTP, then the DHT); resolves with the TCP port. */
  async listen(): Promise<number> {
    const options = this.#context.options;
    if (options.port === false || this.#listener) return this.#port;
    const listener = new PeerListener({
      port: options.port ?? 6881,
      ...(options.bindAddress ? { host: options.bindAddress } : {}),
      ...(options.handshakeTimeoutMs !== undefined ? { handshakeTimeoutMs: options.handshakeTimeoutMs } : {}),
      encryption: options.encryption ?? 'prefer',
      // One map lookup, not a SHA-1 per torrent per encrypted connection (1,000 torrents).
      lookupSkey: this.#context.lookupReq2,
    });
    listener.on('handshake', this.#context.onHandshake);
    this.#port = await listener.listen();
    this.#listener = listener;
    if (options.utp !== false) await this.#openUtp(listener);
    if (options.dht) await this.#startDht(options.dht);
    return this.#port;
  }

  /**
   * The DHT node on the UDP socket (opened for it alone without uTP: on the listener's port, or
   * any port when that is taken). Without a UDP socket the client runs without DHT.
   */
  async #startDht(options: DhtOptions): Promise<void> {
    const events = this.#context.events;
    if (!this.#udp) {
      const bind = this.#context.options.bindAddress;
      for (const port of [this.#port, 0]) {
        try {
          this.#udp = await UdpSocket.bind({
            host: bind ?? '0.0.0.0',
            port,
            ...(bind ? {} : { host6: '::' }),
          });
          break;
        } catch {
          // taken for UDP (or no IPv6): try any port
        }
      }
      if (!this.#udp) {
        events.emit('dht-warning', { message: 'no UDP socket for the DHT; running without it' });
        return;
      }
    }
    const store = options.state ?? (options.stateFile ? dhtStateFile(options.stateFile) : undefined);
    const dht = new DhtService(this.#udp, options, store);
    dht.on('ready', (info) => events.emit('dht-ready', info));
    dht.on('warning', (info) => {
      if (events.listenerCount('dht-warning') > 0) events.emit('dht-warning', info);
    });
    this.#dht = dht;
    await dht.start();
  }

  /**
   * The UDP socket for uTP, on the TCP listener's address and port (bound after it, so a port
   * 0 listener works): the bind address's family only when there is one (IPv4 or IPv6), else
   * `0.0.0.0` and, when it can, `::` on the same port. When the port is taken for UDP the client
   * runs TCP only (or IPv4 uTP only): uTP is optional.
   */
  async #openUtp(listener: PeerListener): Promise<void> {
    const bind = this.#context.options.bindAddress;
    let udp: UdpSocket | undefined;
    try {
      udp = await UdpSocket.bind({
        host: bind ?? '0.0.0.0',
        port: this.#port,
        ...(bind ? {} : { host6: '::' }),
      });
    } catch {
      try {
        if (bind === undefined) udp = await UdpSocket.bind({ host: '0.0.0.0', port: this.#port });
      } catch {
        udp = undefined;
      }
    }
    if (udp === undefined) return;
    const utp = new UtpSocketManager((datagram, port, host) => udp.send(datagram, port, host));
    udp.addRoute(utp.route);
    utp.on('connection', (stream) => {
      stream.on('error', () => stream.destroy());
      listener.accept(stream, { host: stream.remoteAddress, port: stream.remotePort }, 'utp');
    });
    this.#udp = udp;
    this.#utp = utp;
  }

  /** Closes the listener, the DHT node, uTP and the UDP socket. */
  async close(): Promise<void> {
    await this.#listener?.close();
    await this.#dht?.close();
    this.#dht = undefined;
    this.#utp?.close();
    this.#udp?.close();
    this.#utp = undefined;
    this.#udp = undefined;
  }
}
