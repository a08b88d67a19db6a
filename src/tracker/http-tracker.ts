import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { TrackerError } from '../errors.js';
import { USER_AGENT } from '../version.js';
import { abortError } from './announce-common.js';
import { buildAnnounceUrl, failureReasonOf, parseHttpAnnounceResponse } from './http-codec.js';
import type { AnnounceRequest, AnnounceResponse, TrackerClient } from './types.js';

export { buildAnnounceUrl, parseHttpAnnounceResponse, percentEncodeBytes } from './http-codec.js';

export interface HttpTrackerOptions {
  /** Time allowed for a whole announce, redirects included. @default 15000 */
  timeoutMs?: number;
  /** Largest response body accepted; the download is cut off beyond it. @default 2097152 (2 MiB) */
  maxBodyBytes?: number;
  /** Redirects followed before giving up with "redirect loop". @default 3 */
  maxRedirects?: number;
  /** User-Agent header of announces. @default `Lodestone/<version>` */
  userAgent?: string;
  /** Local IPv4 address to announce from, so the tracker records that address for us. */
  localAddress?: string;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

type HttpResult =
  | { kind: 'redirect'; status: number; location: string | undefined }
  | { kind: 'body'; status: number; statusMessage: string; body: Buffer };

interface GetLimits {
  maxBodyBytes: number;
  userAgent: string;
  localAddress: string | undefined;
}

/**
 * An HTTP(S) tracker (BEP 3, compact peers per BEP 23, `peers6` per BEP 7).
 * Every announce opens a fresh connection (`agent: false`): many trackers,
 * opentracker among them, answer exactly one request per TCP connection.
 */
export class HttpTracker implements TrackerClient {
  readonly url: string;
  readonly #timeoutMs: number;
  readonly #maxRedirects: number;
  readonly #limits: GetLimits;
  readonly #pending = new Set<AbortController>();
  #trackerId: string | undefined;
  #closed = false;

  constructor(url: string, options: HttpTrackerOptions = {}) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch (error) {
      throw new TrackerError(`invalid tracker URL "${url}"`, { cause: error });
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new TrackerError(`not an HTTP tracker URL: "${url}"`);
    }
    this.url = url;
    this.#timeoutMs = options.timeoutMs ?? 15_000;
    this.#maxRedirects = options.maxRedirects ?? 3;
    this.#limits = {
      maxBodyBytes: options.maxBodyBytes ?? 2 * 1024 * 1024,
      userAgent: options.userAgent ?? USER_AGENT,
      localAddress: options.localAddress,
    };
  }

  async announce(request: AnnounceRequest): Promise<AnnounceResponse> {
    if (this.#closed) throw abortError('announce (tracker closed)');
    const controller = new AbortController();
    const timer = setTimeout(() => {
      controller.abort(new TrackerError(`tracker did not answer within ${this.#timeoutMs} ms`));
    }, this.#timeoutMs);
    const onCallerAbort = () => controller.abort(abortError('announce'));
    if (request.signal?.aborted) onCallerAbort();
    request.signal?.addEventListener('abort', onCallerAbort, { once: true });
    this.#pending.add(controller);
    try {
      const body = await this.#fetch(buildAnnounceUrl(this.url, request, this.#trackerId), controller.signal);
      const response = parseHttpAnnounceResponse(body);
      if (response.trackerId !== undefined) this.#trackerId = response.trackerId;
      return response;
    } finally {
      clearTimeout(timer);
      request.signal?.removeEventListener('abort', onCallerAbort);
      this.#pending.delete(controller);
    }
  }

  close(): void {
    this.#closed = true;
    for (const controller of this.#pending) controller.abort(abortError('announce (tracker closed)'));
    this.#pending.clear();
  }

  /** GET with redirects; resolves with a 2xx body or throws TrackerError. */
  async #fetch(url: string, signal: AbortSignal): Promise<Buffer> {
    let current = new URL(url);
    for (let redirects = 0; ; redirects++) {
      const result = await httpGet(current, signal, this.#limits);
      if (result.kind === 'redirect') {
        if (redirects >= this.#maxRedirects) {
          throw new TrackerError(`redirect loop: more than ${this.#maxRedirects} redirects`);
        }
        current = redirectTarget(current, result.location, result.status);
        continue;
      }
      if (result.status < 200 || result.status > 299) {
        const reason = failureReasonOf(result.body);
        const statusText = `HTTP ${result.status}${result.statusMessage ? ` ${result.statusMessage}` : ''}`;
        throw new TrackerError(
          reason === undefined
            ? `tracker answered ${statusText}`
            : `tracker failure: ${reason} (${statusText})`,
        );
      }
      return result.body;
    }
  }
}

function redirectTarget(from: URL, location: string | undefined, status: number): URL {
  if (location === undefined) throw new TrackerError(`HTTP ${status} redirect without a Location header`);
  let next: URL;
  try {
    next = new URL(location, from);
  } catch (error) {
    throw new TrackerError(`invalid redirect target "${location.slice(0, 200)}"`, { cause: error });
  }
  if (next.protocol !== 'http:' && next.protocol !== 'https:') {
    throw new TrackerError(`redirect to unsupported scheme ${next.protocol}`);
  }
  return next;
}

/** One GET on a fresh connection. The body is bounded: beyond the limit the socket is destroyed. */
function httpGet(target: URL, signal: AbortSignal, limits: GetLimits): Promise<HttpResult> {
  return new Promise<HttpResult>((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const transport = target.protocol === 'https:' ? https : http;
    let settled = false;
    const settle = (error: unknown, result?: HttpResult) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      if (result !== undefined && error === undefined) resolve(result);
      else reject(error);
      // Whatever the outcome, this connection is done: never leave a socket draining a hostile body.
      request.destroy();
    };
    const onAbort = () => settle(signal.reason);
    const tooLarge = () => new TrackerError(`tracker response larger than ${limits.maxBodyBytes} bytes`);

    // Bind only when the families match: an IPv4 source cannot reach an IPv6 tracker.
    const bind =
      limits.localAddress !== undefined &&
      isIP(limits.localAddress) === (target.hostname.startsWith('[') ? 6 : 4)
        ? { localAddress: limits.localAddress }
        : {};
    const request = transport.request(target, {
      method: 'GET',
      agent: false,
      ...bind,
      headers: { 'User-Agent': limits.userAgent, 'Accept-Encoding': 'identity', Connection: 'close' },
    });
    signal.addEventListener('abort', onAbort, { once: true });
    request.on('error', (error) => {
      settle(new TrackerError(`cannot reach tracker ${target.host}: ${error.message}`, { cause: error }));
    });
    request.on('response', (response) => {
      const status = response.statusCode ?? 0;
      if (REDIRECT_STATUSES.has(status)) {
        settle(undefined, { kind: 'redirect', status, location: response.headers.location });
        return;
      }
      const declared = Number(response.headers['content-length']);
      if (Number.isFinite(declared) && declared > limits.maxBodyBytes) {
        settle(tooLarge());
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > limits.maxBodyBytes) settle(tooLarge());
        else chunks.push(chunk);
      });
      response.on('end', () => {
        settle(undefined, {
          kind: 'body',
          status,
          statusMessage: response.statusMessage ?? '',
          body: Buffer.concat(chunks, size),
        });
      });
      response.on('error', (error) => {
        settle(new TrackerError(`tracker connection failed: ${error.message}`, { cause: error }));
      });
      response.on('close', () => {
        if (!response.complete) settle(new TrackerError('tracker closed the connection mid-response'));
      });
    });
    request.end();
  });
}
