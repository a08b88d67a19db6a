/**
 * The HTTP side of the Transmission-compatible RPC (fastify): Transmission's checks in its
 * order (libtransmission/rpc-server.c): client address whitelist (403), basic auth (401),
 * URLs outside `rpc-url` redirected to the web client (301), Host header against DNS
 * rebinding (421), the CSRF session id (409), then `POST {rpc-url}rpc`. Every response
 * carries `X-Transmission-Session-Id`. Bodies are capped (413), requests time out, JSON nesting
 * is bounded; the method layer (methods.ts) never throws.
 */
import { randomBytes } from 'node:crypto';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { DaemonError } from '../../errors.js';
import { VERSION } from '../../version.js';
import type { DaemonApi } from '../daemon-api.js';
import { isAddressAllowed, isAuthorized, isHostAllowed, isLoopbackAddress } from './access.js';
import { fetchTorrentFile } from './fetch-torrent.js';
import { parseRpcJson } from './json.js';
import { handleRpcRequest, type MethodContext, type RpcLog } from './methods.js';

/** Largest request body: a base64 `metainfo` of a ~7 MiB torrent fits. */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;
/** Whole-request time limit, and idle socket limit. */
export const REQUEST_TIMEOUT_MS = 30_000;

export const SESSION_ID_HEADER = 'X-Transmission-Session-Id';

export interface RpcServerOptions {
  /** The daemon's state folder (shown as `config-dir`). */
  configDir: string;
  /** A folder of static files served under `{rpc-url}web/` (e.g. Transmission's web client). */
  webRoot?: string;
  log?: RpcLog;
  /** Called on `session-close` (after the response is sent). */
  onSessionClose?: () => void;
}

export interface RpcServer {
  /** The port listened on (the actual one when `rpc-port` is 0). */
  readonly port: number;
  close(): Promise<void>;
}

const STATUS_TEXT: Record<number, string> = {
  301: 'Moved Permanently',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  421: 'Misdirected Request',
};

function simple(reply: FastifyReply, code: number, text = ''): FastifyReply {
  return reply
    .code(code)
    .type('text/html; charset=UTF-8')
    .send(`<h1>${code}: ${STATUS_TEXT[code] ?? 'Error'}</h1>${text}`);
}

const WHITELIST_TEXT =
  "<p>Unauthorized IP Address.</p><p>Either disable the IP address whitelist or add your address to it.</p><p>If you're editing settings.json, see the 'rpc-whitelist' and 'rpc-whitelist-enabled' entries.</p>";
const HOST_TEXT =
  "<p>Transmission received your request, but the hostname was unrecognized.</p><p>To fix this, choose one of the following options:<ul><li>Enable password authentication, then any hostname is allowed.</li><li>Add the hostname you want to use to the whitelist in settings.</li></ul></p><p>If you're editing settings.json, see the 'rpc-host-whitelist' and 'rpc-host-whitelist-enabled' entries.</p><p>This requirement has been added to help prevent <a href=\"https://en.wikipedia.org/wiki/DNS_rebinding\">DNS Rebinding</a> attacks.</p>";

function sessionIdText(id: string): string {
  return `<p>Your request had an invalid session-id header.</p><p>To fix this, follow these steps:<ol><li> When reading a response, get its ${SESSION_ID_HEADER} header and remember it<li> Add the updated header to your outgoing requests<li> When you get this 409 error message, resend your request with the updated header</ol></p><p>This requirement has been added to help prevent <a href="https://en.wikipedia.org/wiki/Cross-site_request_forgery">CSRF</a> attacks.</p><p><code>${SESSION_ID_HEADER}: ${id}</code></p>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** `rpc-url` with exactly one leading and one trailing slash. */
export function normalizeRpcUrl(url: string): string {
  const trimmed = url.trim().replace(/^\/+|\/+$/g, '');
  return trimmed === '' ? '/' : `/${trimmed}/`;
}

/** Starts the RPC server on the settings' address and port; refuses a non-loopback address without a password. */
export async function startRpcServer(api: DaemonApi, options: RpcServerOptions): Promise<RpcServer> {
  const settings = api.settings();
  const log: RpcLog = options.log ?? (() => {});
  const bind = settings['rpc-bind-address'] || '127.0.0.1';
  if (!isLoopbackAddress(bind) && !settings['rpc-authentication-required']) {
    throw new DaemonError(
      'LODESTONE_ERR_RPC',
      `refusing to serve the RPC on ${bind} without authentication: set rpc-authentication-required (with rpc-username and rpc-password) or bind to 127.0.0.1`,
    );
  }
  if (settings['rpc-authentication-required'] && settings['rpc-password'] === '') {
    throw new DaemonError(
      'LODESTONE_ERR_RPC',
      'rpc-authentication-required is set but rpc-password is empty',
    );
  }
  const url = normalizeRpcUrl(settings['rpc-url'] || '/transmission/');
  const sessionId = randomBytes(24).toString('hex');
  let closing = false;
  const context: MethodContext = {
    api,
    sessionId,
    configDir: options.configDir,
    version: `3.00 (Lodestone ${VERSION})`,
    log,
    onSessionClose: () => {
      closing = true;
    },
    fetchTorrent: (address) => fetchTorrentFile(address),
  };

  const app = Fastify({
    bodyLimit: MAX_BODY_BYTES,
    connectionTimeout: REQUEST_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
    keepAliveTimeout: 5_000,
    logger: false,
    return503OnClosing: true,
  });

  // Every body is read as text and parsed here (transmission-remote posts without a JSON content type).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));

  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header(SESSION_ID_HEADER, sessionId);
    reply.header('Server', 'Transmission');
    return payload;
  });

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const current = api.settings();
    if (
      !isAddressAllowed(
        request.socket.remoteAddress ?? '',
        current['rpc-whitelist-enabled'],
        current['rpc-whitelist'],
      )
    ) {
      log('info', `rpc: refused ${request.socket.remoteAddress}: not in rpc-whitelist`);
      return simple(reply, 403, WHITELIST_TEXT);
    }
    const auth = {
      required: current['rpc-authentication-required'],
      username: current['rpc-username'],
      password: current['rpc-password'],
    };
    if (!isAuthorized(request.headers.authorization, auth)) {
      reply.header('WWW-Authenticate', 'Basic realm="Transmission"');
      return simple(reply, 401, '<p>Unauthorized User.</p>');
    }
    const path = request.url.split('?')[0] ?? '';
    if (!path.startsWith(url)) {
      reply.header('Location', `${url}web/`);
      return simple(reply, 301);
    }
    if (path.startsWith(`${url}web/`) || path === `${url}web`) return undefined;
    const hostOptions = {
      passwordRequired: current['rpc-authentication-required'],
      enabled: current['rpc-host-whitelist-enabled'],
      whitelist: current['rpc-host-whitelist'],
    };
    if (!isHostAllowed(request.headers.host, hostOptions)) {
      log('info', `rpc: refused Host ${JSON.stringify(request.headers.host ?? '')}`);
      return simple(reply, 421, HOST_TEXT);
    }
    if (request.headers[SESSION_ID_HEADER.toLowerCase()] !== sessionId) {
      return simple(reply, 409, sessionIdText(sessionId));
    }
    // Transmission reads the body whatever its type. The stock web client posts
    // `Content-Type: json` (jQuery's `contentType: 'json'`), not a media type: fastify would
    // answer 415 before our catch-all parser sees it, so the type is dropped here.
    delete request.raw.headers['content-type'];
    return undefined;
  });

  app.setErrorHandler((error: { statusCode?: number; code?: string; message: string }, _request, reply) => {
    const status = error.statusCode ?? 500;
    if (status === 413)
      return simple(reply, 413, `<p>Request bodies are limited to ${MAX_BODY_BYTES} bytes.</p>`);
    if (status >= 500) log('error', `rpc: ${error.message}`);
    return simple(reply, status >= 400 && status < 600 ? status : 500, '');
  });

  const rpcHandler = async (request: FastifyRequest, reply: FastifyReply) => {
    const text = typeof request.body === 'string' ? request.body : '';
    const parsed = parseRpcJson(text);
    const body = parsed.ok ? parsed.value : undefined;
    if (!parsed.ok) log('debug', `rpc: ${parsed.reason} JSON request`);
    const response =
      parsed.ok || parsed.reason === 'malformed'
        ? await handleRpcRequest(body, context)
        : { arguments: {}, result: 'request nests too deeply' };
    reply.type('application/json; charset=UTF-8').send(JSON.stringify(response));
    if (closing) {
      closing = false;
      reply.raw.once('finish', () => options.onSessionClose?.());
    }
    return reply;
  };
  // transmission-remote posts to `{rpc-url}rpc/`, the web client to `{rpc-url}rpc`.
  for (const path of [`${url}rpc`, `${url}rpc/`]) {
    app.post(path, rpcHandler);
    // Transmission answers a GET of the RPC URL (after the session id check) with 405.
    app.get(path, async (_request, reply) => simple(reply, 405));
  }
  app.setNotFoundHandler(async (request, reply) => simple(reply, 404, escapeHtml(request.url)));

  if (options.webRoot !== undefined) {
    // The web client's folder without its slash: its relative URLs (`../rpc`, `javascript/…`)
    // only resolve from `{rpc-url}web/` (Transmission answers 409 here; a redirect is kinder).
    app.get(`${url}web`, async (_request, reply) => {
      reply.header('Location', `${url}web/`);
      return simple(reply, 301);
    });
    await app.register(fastifyStatic, {
      root: options.webRoot,
      prefix: `${url}web/`,
      redirect: true,
      index: 'index.html',
    });
  }

  await app.listen({ host: bind, port: settings['rpc-port'] });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : settings['rpc-port'];
  log('info', `rpc: listening on http://${bind.includes(':') ? `[${bind}]` : bind}:${port}${url}rpc`);
  return {
    port,
    close: async () => {
      await app.close();
    },
  };
}
