// History beyond the API's 5,000-flow page: the dashboard pages older flows in below the newest ones.
import fs from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import type { Leakscope } from '../../proxy/app';
import { ensureDashboardBuilt, feedIds, launchBrowser, startApp, tempDataDir, waitLive } from './helpers';

let browser: Browser;
let app: Leakscope;
let dataDir: string;
const STORED = 12_001;

beforeAll(async () => {
  await ensureDashboardBuilt();
  dataDir = tempDataDir('history');
  [app, browser] = await Promise.all([startApp(dataDir), launchBrowser()]);
  for (let i = 0; i < STORED; i++) {
    app.store.add({
      client: '127.0.0.1',
      method: 'GET',
      url: `http://127.0.0.1/old/${i}`,
      host: '127.0.0.1',
      httpVersion: '1.1',
      requestHeaders: {},
      status: 200,
      timings: { start: Date.now() },
      findings: [],
      tags: [],
    });
  }
});

afterAll(async () => {
  await browser?.close();
  await app?.close();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

it('loads every stored flow, the oldest at the bottom of the feed, each once', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`http://127.0.0.1:${app.uiPort}/`);
  await waitLive(page);
  await expect.poll(() => page.locator('[data-testid=feed-count]').textContent()).toContain(`${STORED.toLocaleString('en')} shown`);
  expect((await feedIds(page))[0]).toBe(STORED);
  await page.focus('[data-testid=feed-list]');
  await page.keyboard.press('End');
  await expect.poll(async () => (await feedIds(page)).at(-1)).toBe(1);
  const ids = await feedIds(page);
  expect(ids).toEqual(ids.map((_, i) => ids[0] - i));
  await page.close();
});

it('stops paging history in once the view is cleared', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  // The first older page is held back until the view has been cleared.
  let release = () => {};
  const cleared = new Promise<void>((r) => (release = r));
  await page.route(/\/api\/flows\?.*before=/, async (route) => {
    await cleared;
    await route.continue();
  });
  await page.goto(`http://127.0.0.1:${app.uiPort}/`);
  await expect.poll(() => page.locator('[data-testid=feed-count]').textContent()).toContain('5,000 shown');
  await page.click('[data-testid=clear]');
  const older = page.waitForResponse(/before=/);
  release();
  await older;
  await page.waitForTimeout(300);
  expect(await page.locator('[data-testid=feed-count]').textContent()).toContain('0 shown');
  expect(await feedIds(page)).toEqual([]);
  await page.close();
});
