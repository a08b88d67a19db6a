/**
 * Driving Transmission's web client (3.00, Debian's /usr/share/transmission/web) in a Playwright
 * page like a user: its torrent rows, the right-click menu, the preferences dialog; and watching
 * it for the whole test (see web-client-page.ts). Every wait is bounded by {@link UI_TIMEOUT}.
 */
import assert from 'node:assert/strict';
import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { Page } from 'playwright-core';
import { eventually } from './daemon-process.js';
import { type RpcExchange, recordWebClient, type WebClientRecorder } from './web-client-page.js';

/** The longest any one step of the page may take. */
export const UI_TIMEOUT = 10_000;

/** `eventually` with the UI's time limit: every step here takes well under it. */
export function soon<T>(what: string, probe: () => Promise<T | undefined | false>): Promise<T> {
  return eventually(what, probe, UI_TIMEOUT);
}

/** The row of a torrent in the client's list. */
export function row(page: Page, name: string) {
  return page.locator('#torrent_list li.torrent', {
    has: page.locator('.torrent_name', { hasText: new RegExp(`^${name.replace(/\./g, '\\.')}$`) }),
  });
}

/** Waits until the row's progress line matches (the client refreshes every second here). */
export async function rowShows(page: Page, name: string, pattern: RegExp, what: string): Promise<string> {
  let last = '';
  try {
    return await eventually(
      `${name}: ${what}`,
      async () => {
        last = (await row(page, name).textContent({ timeout: UI_TIMEOUT })) ?? '';
        return pattern.test(last) ? last : undefined;
      },
      UI_TIMEOUT,
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}; the row showed ${JSON.stringify(last)}`);
  }
}

export async function selectOnly(page: Page, name: string): Promise<void> {
  await row(page, name).locator('.torrent_name').click({ timeout: UI_TIMEOUT });
  await page.locator('#torrent_list li.torrent.selected', { hasText: name }).waitFor({ timeout: UI_TIMEOUT });
}

/** Right-clicks a torrent's row and picks an entry of its menu. */
export async function contextCommand(page: Page, name: string, entry: string): Promise<void> {
  await row(page, name).locator('.torrent_name').click({ button: 'right' });
  await page.locator('.ui-contextmenu li', { hasText: entry }).first().click();
  await page.locator('.ui-contextmenu').first().waitFor({ state: 'hidden' });
}

export async function closePrefs(page: Page): Promise<void> {
  await page
    .locator('.ui-dialog', { has: page.locator('#prefs-dialog') })
    .locator('.ui-dialog-titlebar-close')
    .click();
  await page.locator('#prefs-dialog').waitFor({ state: 'hidden' });
}

export async function openPage(page: Page, url: string): Promise<void> {
  // One refresh per second instead of five (the client's own `refresh_rate` cookie).
  await page.context().addCookies([{ name: 'refresh_rate', value: '1', url }]);
  const response = await page.goto(url, { timeout: UI_TIMEOUT });
  assert.equal(response?.status(), 200);
  assert.match(page.url(), /\/transmission\/web\/$/, 'redirected to the web client');
}

/**
 * The one answer other than "success", deliberate: the preferences dialog asks `port-test` each
 * time it opens, and Lodestone has no outside service to ask, so it says so (Transmission, when it
 * cannot reach its port checker, answers an error string too); the dialog then shows "Port is
 * Closed".
 */
export function portTestRefused(exchange: RpcExchange): boolean {
  return exchange.method === 'port-test' && /^port-test is not supported/.test(exchange.result);
}

/**
 * Records the page (see recordWebClient); when the test ends, before anything else stops, lists
 * what the page saw go wrong as test diagnostics, and writes every RPC exchange to
 * LODESTONE_WEB_TRACE_DIR when that is set (for debugging).
 */
export function watchPage(t: TestContext, name: string): { record(page: Page): WebClientRecorder } {
  let recorder: WebClientRecorder | undefined;
  t.after(async () => {
    if (recorder === undefined) return;
    await recorder.settled();
    for (const line of recorder.problems(portTestRefused)) t.diagnostic(`page: ${line}`);
    const dir = process.env.LODESTONE_WEB_TRACE_DIR;
    if (dir === undefined || dir === '') return;
    const lines = recorder.exchanges.map((e) => JSON.stringify(e));
    await writeFile(join(dir, `web-client-${name}.jsonl`), `${lines.join('\n')}\n`);
  });
  return {
    record: (page) => {
      recorder = recordWebClient(page);
      return recorder;
    },
  };
}

/** Copies a screenshot out of the temp folder when LODESTONE_SCREENSHOT_DIR names a folder. */
export async function keepScreenshot(path: string, name: string): Promise<void> {
  const dir = process.env.LODESTONE_SCREENSHOT_DIR;
  if (dir !== undefined && dir !== '') await copyFile(path, join(dir, name));
}
