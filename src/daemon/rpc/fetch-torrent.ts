/**
 * Fetching a `.torrent` named by an http(s) URL in `torrent-add` (as Transmission does), bounded:
 * at most {@link MAX_TORRENT_BYTES} bytes and {@link FETCH_TIMEOUT_MS} in all.
 */
import { DaemonError } from '../../errors.js';

export const MAX_TORRENT_BYTES = 10 * 1024 * 1024;
export const FETCH_TIMEOUT_MS = 30_000;

export async function fetchTorrentFile(
  url: string,
  options: { maxBytes?: number; timeoutMs?: number } = {},
): Promise<Uint8Array> {
  const maxBytes = options.maxBytes ?? MAX_TORRENT_BYTES;
  const signal = AbortSignal.timeout(options.timeoutMs ?? FETCH_TIMEOUT_MS);
  let response: Response;
  try {
    response = await fetch(url, { signal, redirect: 'follow' });
  } catch (error) {
    throw new DaemonError('LODESTONE_ERR_RPC', `could not fetch ${url}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new DaemonError('LODESTONE_ERR_RPC', `could not fetch ${url}: HTTP ${response.status}`);
  }
  const declared = Number(response.headers.get('content-length') ?? 'NaN');
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw new DaemonError('LODESTONE_ERR_RPC', `${url} is larger than ${maxBytes} bytes`);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for await (const chunk of response.body ?? []) {
      total += chunk.byteLength;
      if (total > maxBytes) {
        throw new DaemonError('LODESTONE_ERR_RPC', `${url} is larger than ${maxBytes} bytes`);
      }
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof DaemonError) throw error;
    throw new DaemonError('LODESTONE_ERR_RPC', `could not fetch ${url}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return new Uint8Array(Buffer.concat(chunks));
}
