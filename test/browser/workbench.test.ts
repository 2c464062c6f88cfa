// The dashboard as a workbench, against the real leakscope in Debian Chromium: the Export HAR menu, the collected
// matrix at laptop and phone width, the keyboard, and dark mode.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { Leakscope } from '../../proxy/app';
import { DOCS, ensureDashboardBuilt, feedIds, launchBrowser, openLivePage, SCREENSHOTS, startApp, startUpstream, tempDataDir, viaProxy, tearDown } from './helpers';

let browser: Browser;
let page: Page;
let app: Leakscope;
let upstream: Awaited<ReturnType<typeof startUpstream>>;
let dataDir: string;
const pageErrors: string[] = [];

// One known value per plain identifier type, so the matrix has every one of those columns.
const VALUES: Record<string, string> = {
  imei: '865123456789012',
  meid: 'A0000012345678',
  imsi: '460001234567890',
  iccid: '89860012345678901234',
  phone_number: '+8613812345678',
  android_id: '9774d56d682e549c',
  advertising_id: '38400000-8cf0-11bd-b23e-10b96e40000d',
  mac_address: 'a4:5e:60:c1:22:3f',
  serial_number: 'R58M12ABCDE',
  email: 'auditor@example.org',
  sms: 'Your code is 481516',
  wifi: 'HomeNet-5G-Attic',
};
const ui = (p: string) => `http://127.0.0.1:${app.uiPort}${p}`;
const at = (host: string, p: string) => `http://${host}:${upstream.port}${p}`;

beforeAll(async () => {
  await ensureDashboardBuilt();
  dataDir = tempDataDir('workbench');
  fs.writeFileSync(path.join(dataDir, 'test-identifiers.json'), JSON.stringify({ devices: [{ name: 'Test Phone', client: '127.0.0.1', ...Object.fromEntries(Object.entries(VALUES).map(([k, v]) => [k, [v]])) }] }));
  [app, upstream, browser] = await Promise.all([startApp(dataDir), startUpstream(), launchBrowser()]);
  const body = JSON.stringify(VALUES);
  for (const host of ['127.0.0.1', 'localhost']) {
    await viaProxy(app.proxyPort, at(host, '/collect'), { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  }
  for (let i = 0; i < 3; i++) await viaProxy(app.proxyPort, at('127.0.0.1', `/plain?n=${i}`));
  page = await openLivePage(browser, ui('/'), pageErrors, { viewport: { width: 1280, height: 800 } });
}, 120_000);

afterAll(() => tearDown({ browser, app, upstream, dataDir }));

const menuOpen = () => page.locator('[data-testid=export-options]').count().then((n) => n === 1);

describe('the Export HAR menu', () => {
  it('closes after a choice, on Escape, on a click elsewhere and on a change of view', async () => {
    await expect.poll(async () => (await feedIds(page)).length).toBe(5);
    await page.click('[data-testid=export-menu]');
    expect(await menuOpen()).toBe(true);
    // Nothing is filtered: the third choice says so and is not a link that would download everything.
    const current = page.locator('[data-testid=export-filter]');
    expect(await current.getAttribute('aria-disabled')).toBe('true');
    expect(await current.getAttribute('href')).toBeNull();
    await page.keyboard.press('Escape');
    expect(await menuOpen()).toBe(false);

    await page.click('[data-testid=export-menu]');
    const download = page.waitForEvent('download');
    await page.click('[data-testid=export-options] a:has-text("Flagged only")');
    await download;
    expect(await menuOpen()).toBe(false);

    await page.click('[data-testid=export-menu]');
    await page.click('[data-testid=feed-count]');
    expect(await menuOpen()).toBe(false);

    await page.click('[data-testid=export-menu]');
    await page.click('a.tab:has-text("Collected")');
    await expect.poll(menuOpen).toBe(false);
    await page.click('a.tab:has-text("Live feed")');
  });

  it('never covers the detail’s Close button, and Escape then closes the menu, not the detail', async () => {
    const id = (await feedIds(page))[0];
    await page.goto(ui(`/#/feed/${id}`));
    await page.click('[data-testid=export-menu]');
    const menu = (await page.locator('[data-testid=export-options]').boundingBox())!;
    const close = (await page.locator('[data-testid=close-detail]').boundingBox())!;
    const overlaps = menu.x < close.x + close.width && close.x < menu.x + menu.width && menu.y < close.y + close.height && close.y < menu.y + menu.height;
    expect(overlaps).toBe(false);
    await page.keyboard.press('Escape');
    expect(await menuOpen()).toBe(false);
    expect(await page.locator('[data-testid=detail]').count()).toBe(1);
  });

  it('names one flow’s HAR after the flow, in safe characters', async () => {
    const id = (await feedIds(page))[0];
    await page.goto(ui(`/#/feed/${id}`));
    const download = page.waitForEvent('download');
    await page.click('[data-testid=export-one]');
    expect((await download).suggestedFilename()).toBe(`flow-${id}-GET-127.0.0.1.har`);
  });
});

describe('the collected matrix', () => {
  it('reaches every type column at 1280×800 inside its box, with the header and first column in view', async () => {
    await page.goto(ui('/#/matrix'));
    const wrap = page.locator('.matrix-wrap');
    const headers = page.locator('[data-testid=matrix] thead th');
    await expect.poll(() => headers.count()).toBe(1 + Object.keys(VALUES).length);
    const box = (await wrap.boundingBox())!;
    const pageBox = (await page.locator('.page').boundingBox())!;
    expect(box.x + box.width).toBeLessThanOrEqual(pageBox.x + pageBox.width + 0.5);
    expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    // The table is wider than its box: it scrolls inside it.
    expect(await wrap.evaluate((w) => w.scrollWidth > w.clientWidth)).toBe(true);

    const n = await headers.count();
    for (let i = 1; i < n; i++) {
      const th = headers.nth(i);
      await th.evaluate((el) => el.scrollIntoView({ block: 'nearest', inline: 'nearest' }));
      const b = (await th.boundingBox())!;
      expect(b.x).toBeGreaterThanOrEqual(box.x - 0.5);
      expect(b.x + b.width).toBeLessThanOrEqual(box.x + box.width + 0.5);
      expect(b.y + b.height).toBeLessThanOrEqual(800);
    }
    // Scrolled to the far right and to the bottom: the header row and the destination column have stayed put.
    await wrap.evaluate((w) => w.scrollTo(w.scrollWidth, w.scrollHeight));
    const corner = (await headers.first().boundingBox())!;
    expect(Math.abs(corner.x - box.x)).toBeLessThan(2);
    expect(Math.abs(corner.y - box.y)).toBeLessThan(2);
    const rowHead = (await page.locator('[data-testid=matrix] tbody th').first().boundingBox())!;
    expect(Math.abs(rowHead.x - box.x)).toBeLessThan(2);
  });

  it('labels each cell for a screen reader with type, destination, count and times', async () => {
    const label = await page.locator('[data-testid="cell-127.0.0.1-imei"]').getAttribute('aria-label');
    expect(label).toMatch(/^IMEI to 127\.0\.0\.1: 1 request, encoded as plain, first seen \S.+, last seen \S.+$/);
  });

  it('is compact at phone width: several columns in view, no sideways page scroll', async () => {
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 } });
    try {
      await phone.goto(ui('/#/matrix'));
      await phone.waitForSelector('[data-testid=matrix]');
      expect(await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
      const box = (await phone.locator('.matrix-wrap').boundingBox())!;
      const visible = await phone.locator('[data-testid=matrix] thead th').evaluateAll(
        (ths, right) => ths.filter((th) => th.getBoundingClientRect().right <= (right as number)).length,
        box.x + box.width,
      );
      expect(visible).toBeGreaterThanOrEqual(4);
    } finally {
      await phone.close();
    }
  });
});

describe('the keyboard', () => {
  it('has a skip link to the list as the first tab stop', async () => {
    await page.goto(ui('/#/feed'));
    await page.reload();
    await page.waitForSelector('[data-testid=feed-list] [data-flow-id]');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('skip-link');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('feed-list');
  });

  it('moves with j/k, opens with Enter, closes with Escape from inside the detail, / searches, ? helps', async () => {
    const ids = await feedIds(page);
    const active = () => page.locator('[data-testid=feed-list] [aria-selected=true]').getAttribute('data-flow-id').then(Number);
    await page.keyboard.press('j');
    expect(await active()).toBe(ids[0]);
    await page.keyboard.press('j');
    await page.keyboard.press('j');
    await page.keyboard.press('k');
    expect(await active()).toBe(ids[1]);
    await page.keyboard.press('Enter');
    await expect.poll(() => page.evaluate(() => location.hash)).toBe(`#/feed/${ids[1]}`);
    // With the detail open, j opens the next flow.
    await page.keyboard.press('j');
    await expect.poll(() => page.evaluate(() => location.hash)).toBe(`#/feed/${ids[2]}`);
    await page.focus('[data-testid=copy-curl]');
    await page.keyboard.press('Escape');
    await expect.poll(() => page.locator('[data-testid=detail]').count()).toBe(0);

    await page.keyboard.press('/');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('filter-q');
    // Typed into the search box, j is a letter, not a move.
    await page.keyboard.type('jk');
    expect(await page.evaluate(() => (document.activeElement as HTMLInputElement).value)).toBe('jk');
    await page.fill('[data-testid=filter-q]', '');
    await page.evaluate(() => (document.activeElement as HTMLElement).blur());

    await page.keyboard.press('?');
    expect(await page.locator('[data-testid=keyboard-help]').textContent()).toContain('Focus the search box');
    await page.keyboard.press('Escape');
    expect(await page.locator('[data-testid=keyboard-help]').count()).toBe(0);
    expect(pageErrors).toEqual([]);
  });
});

describe('dark mode', () => {
  it('follows prefers-color-scheme: dark backgrounds, light text', async () => {
    const dark = await browser.newPage({ viewport: { width: 1280, height: 800 }, colorScheme: 'dark' });
    try {
      const id = (await feedIds(page))[0];
      expect(id).toBeGreaterThan(0);
      dark.setDefaultTimeout(5000);
      await dark.goto(ui(`/#/feed/${id}`));
      await dark.waitForSelector('[data-testid=detail] [data-testid=copy-curl]');
      await dark.waitForSelector('[data-testid=feed-list] [data-flow-id]');
      // Relative luminance of a computed rgb() colour.
      const luminance = (selector: string, prop: 'backgroundColor' | 'color') =>
        dark.locator(selector).first().evaluate((el, p) => {
          const [r, g, b] = getComputedStyle(el)[p as 'color'].match(/\d+/g)!.map(Number).map((c) => c / 255);
          const lin = (c: number) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
          return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
        }, prop);
      for (const surface of ['body', '[data-testid=detail]', '[data-testid=feed-list]', 'button']) expect(await luminance(surface, 'backgroundColor')).toBeLessThan(0.05);
      expect(await luminance('body', 'color')).toBeGreaterThan(0.6);
      if (SCREENSHOTS) await dark.screenshot({ path: path.join(DOCS, 'dark.png') });
    } finally {
      await dark.close();
    }
  });
});
