/** A raw HTTP client for RPC tests: sets any Host header and local address (fetch cannot). */
import { request } from 'node:http';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export function rawRequest(options: {
  port: number;
  host?: string;
  path?: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  localAddress?: string;
  timeoutMs?: number;
}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: options.host ?? '127.0.0.1',
        port: options.port,
        path: options.path ?? '/transmission/rpc',
        method: options.method ?? 'POST',
        headers: options.headers,
        localAddress: options.localAddress,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.setTimeout(options.timeoutMs ?? 10_000, () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    if (options.body !== undefined) req.end(options.body);
    else req.end();
  });
}

/** The session id a server hands out (from a 409 answer). */
export async function sessionIdOf(
  port: number,
  host = '127.0.0.1',
  headers: Record<string, string> = {},
): Promise<string> {
  const res = await rawRequest({ port, host, headers, body: '{}' });
  const id = res.headers['x-transmission-session-id'];
  if (typeof id !== 'string') throw new Error(`no session id (HTTP ${res.status})`);
  return id;
}
