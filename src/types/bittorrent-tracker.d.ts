// The bittorrent-tracker package ships no types; this declares only the
// server surface the demo uses (the package's `./server` entry, default export).
declare module 'bittorrent-tracker/server' {
  import type { EventEmitter } from 'node:events';
  import type { AddressInfo } from 'node:net';

  export interface ServerOptions {
    http?: boolean;
    udp?: boolean;
    ws?: boolean;
    stats?: boolean;
    trustProxy?: boolean;
    interval?: number;
  }

  export default class Server extends EventEmitter {
    constructor(options?: ServerOptions);
    http: { address(): AddressInfo };
    torrents: Record<string, { complete: number; incomplete: number } | undefined>;
    listen(port: number, hostname: string, onListening?: () => void): void;
    close(callback?: () => void): void;
  }
}
