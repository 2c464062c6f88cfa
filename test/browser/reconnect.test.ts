// After the socket drops and the server restarts (same ports, same data dir), the open dashboard catches up on
// what it missed: every flow exactly once, without a reload.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { Leakscope } from '../../proxy/app';
import { ensureDashboardBuilt, feedIds, launchBrowser, startApp, startUpstream, tempDataDir, viaProxy, waitLive, tearDown } from './helpers';

let browser: Browser;
let page: Page;
let app: Leakscope | undefined;
let upstream: Awaited<ReturnType<typeof startUpstream>>;
let dataDir: string;

beforeAll(async () => {
  await ensureDashboardBuilt();
  dataDir = tempDataDir('reconnect');
  [app, upstream, browser] = await Promise.all([startApp(dataDir), startUpstream(), launchBrowser()]);
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(10_000);
});

afterAll(() => tearDown({ browser, app, upstream, dataDir }));

const send = (n: number, tag: string) =>
  (async () => {
    for (let i = 0; i < n; i++) await viaProxy(app!.proxyPort, `http://127.0.0.1:${upstream.port}/${tag}/${i}`);
  })();

it('resumes after a server restart with no gap and no duplicates', async () => {
  const { proxyPort, uiPort } = app!;
  await send(3, 'before-load');
  await page.goto(`http://127.0.0.1:${uiPort}/`);
  await waitLive(page);
  await expect.poll(async () => (await feedIds(page)).length).toBe(3);
  await send(2, 'live');
  await expect.poll(async () => (await feedIds(page)).length).toBe(5);
  // Marks this page: a reload would lose it.
  await page.evaluate(() => ((window as unknown as { __sameLoad: boolean }).__sameLoad = true));

  // The server goes away; the browser is cut off so it cannot reconnect before the flows it will miss exist.
  await page.context().setOffline(true);
  await app!.close();
  app = undefined;
  await page.waitForSelector('[data-testid=connection]:has-text("offline")');
  app = await startApp(dataDir, { proxyPort, uiPort });
  await send(4, 'missed');
  await page.context().setOffline(false);
  await waitLive(page);
  // And live again afterwards.
  await send(2, 'after');

  await expect.poll(async () => (await feedIds(page)).length).toBe(11);
  const ids = await feedIds(page);
  expect(new Set(ids).size).toBe(ids.length);
  expect(ids).toEqual([...ids].sort((a, b) => b - a));
  const stored = (await (await fetch(`http://127.0.0.1:${uiPort}/api/flows?limit=100`)).json()) as { id: number }[];
  expect(ids).toEqual(stored.map((f) => f.id));
  expect(await page.locator('[data-testid=feed-count]').textContent()).toContain('11 shown');
  expect(await page.evaluate(() => (window as unknown as { __sameLoad?: boolean }).__sameLoad)).toBe(true);
  // Nothing arrives twice later either (a late duplicate replay would show up here).
  await page.waitForTimeout(500);
  expect(await feedIds(page)).toEqual(ids);
});
