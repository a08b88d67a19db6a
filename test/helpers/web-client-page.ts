/**
 * Watches the stock Transmission web client in a Playwright page: every RPC request it makes
 * and the answer it got, every console error, uncaught page error, failed request and alert.
 * `problems()` lists everything a user would have seen go wrong; the only thing it lets pass is
 * the CSRF handshake (a 409 carrying the session id, which the client retries with the id, and
 * the browser's "Failed to load resource … 409" console line for it), which Transmission's own
 * daemon causes just the same.
 */
import type { Page } from 'playwright-core';

export interface RpcExchange {
  method: string;
  arguments: unknown;
  status: number;
  /** The `result` of the answer ('' when the body was not JSON, e.g. a 409 page). */
  result: string;
  /** The answer's arguments, when it was JSON. */
  answer?: Record<string, unknown>;
  sessionIdHeader: boolean;
}

export interface WebClientRecorder {
  exchanges: RpcExchange[];
  consoleErrors: string[];
  /**
   * Everything wrong so far, one line each (empty when all is well). `expected` names RPC answers
   * other than "success" that are known and deliberate (each is listed in the test).
   */
  problems(expected?: (exchange: RpcExchange) => boolean): string[];
  /** The exchanges for one RPC method. */
  calls(method: string): RpcExchange[];
  /** Waits until every RPC response seen so far has been read and recorded. */
  settled(): Promise<void>;
}

const HANDSHAKE_CONSOLE = /^Failed to load resource: the server responded with a status of 409 \(Conflict\)$/;

export function recordWebClient(page: Page, rpcPath = '/transmission/rpc'): WebClientRecorder {
  const exchanges: RpcExchange[] = [];
  const consoleErrors: string[] = [];
  const others: string[] = [];
  const pending = new Set<Promise<void>>();
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
    else if (message.type() === 'warning') others.push(`console warning: ${message.text()}`);
  });
  page.on('pageerror', (error) => others.push(`page error: ${error.message}`));
  page.on('dialog', (dialog) => {
    others.push(`${dialog.type()} dialog: ${dialog.message()}`);
    void dialog.dismiss().catch(() => {});
  });
  page.on('requestfailed', (request) => {
    // Aborted navigations at close are not the daemon's doing; everything else is.
    const failure = request.failure()?.errorText ?? '';
    if (failure !== 'net::ERR_ABORTED') others.push(`request failed: ${request.url()} ${failure}`);
  });
  page.on('response', (response) => {
    const url = new URL(response.url());
    const request = response.request();
    if (url.pathname !== rpcPath) {
      if (response.status() >= 400) others.push(`HTTP ${response.status()} for ${url.pathname}`);
      return;
    }
    const work = (async () => {
      let body: { method?: unknown; arguments?: unknown } = {};
      try {
        body = JSON.parse(request.postData() ?? '{}') as typeof body;
      } catch {
        others.push(`an RPC request that is not JSON: ${request.postData()}`);
      }
      let result = '';
      let answer: Record<string, unknown> | undefined;
      try {
        const parsed = JSON.parse(await response.text()) as {
          result?: unknown;
          arguments?: Record<string, unknown>;
        };
        result = typeof parsed.result === 'string' ? parsed.result : '';
        answer = parsed.arguments;
      } catch {
        // a 409 page, or the page closed before the body was read
      }
      exchanges.push({
        method: typeof body.method === 'string' ? body.method : '',
        arguments: body.arguments,
        status: response.status(),
        result,
        ...(answer !== undefined ? { answer } : {}),
        sessionIdHeader: (await response.headerValue('x-transmission-session-id')) !== null,
      });
    })();
    pending.add(work);
    void work.finally(() => pending.delete(work));
  });
  const problems = (expected: (exchange: RpcExchange) => boolean = () => false): string[] => {
    const out = [...others];
    let handshakes = 0;
    for (const exchange of exchanges) {
      if (exchange.status === 409 && exchange.sessionIdHeader) {
        handshakes++;
        continue;
      }
      if (exchange.status === 200 && exchange.result !== 'success' && expected(exchange)) continue;
      if (exchange.status !== 200 || exchange.result !== 'success') {
        out.push(
          `RPC ${exchange.method} ${JSON.stringify(exchange.arguments)}: HTTP ${exchange.status}, result ${JSON.stringify(exchange.result)}`,
        );
      }
    }
    let handshakeLines = 0;
    for (const line of consoleErrors) {
      if (HANDSHAKE_CONSOLE.test(line) && handshakeLines < handshakes) handshakeLines++;
      else out.push(`console error: ${line}`);
    }
    return out;
  };
  return {
    exchanges,
    consoleErrors,
    problems,
    calls: (method) => exchanges.filter((e) => e.method === method),
    settled: async () => {
      while (pending.size > 0) await Promise.all([...pending]);
    },
  };
}
