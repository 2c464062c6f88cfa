// Time in the dashboard, against the real leakscope in Debian Chromium: the timeline strip over the feed (counted
// by the server, grown by live flows), with flows seeded through the store on two past days and others sent
// through the real proxy now.
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { Leakscope } from '../../proxy/app';
import { draftFlow } from '../helpers/flows';
import { ensureDashboardBuilt, feedIds, launchBrowser, openLivePage, PHONE, startApp, startUpstream, tempDataDir, tearDown, viaProxy } from './helpers';

let browser: Browser;
let page: Page;
let app: Leakscope;
let upstream: Awaited<ReturnType<typeof startUpstream>>;
let dataDir: string;
const pageErrors: string[] = [];
const ui = (p: string) => `http://127.0.0.1:${app.uiPort}${p}`;

const HOUR = 3_600_000;
// Three days back, on the hour, so the strip spans 72-73 hours whenever the suite runs: 10-minute buckets (the
// bucket grows with the span up to now), with day 1's first flow at the start of one.
const DAY1 = Math.floor(Date.now() / HOUR) * HOUR - 72 * HOUR;
const DAY2 = DAY1 + 24 * HOUR;
/** ids of the seeded flows, by day */
const seeded = { day1: [] as number[], day2: [] as number[] };

const stripLabel = () => page.locator('[data-testid=timeline-strip] svg').getAttribute('aria-label');

beforeAll(async () => {
  await ensureDashboardBuilt();
  dataDir = tempDataDir('timeline');
  [app, upstream, browser] = await Promise.all([startApp(dataDir), startUpstream(), launchBrowser()]);
  // Day 1: the IMEI to tracker-one.com, and a plain flow. Day 2: the IMEI to tracker-one.com again and, for the
  // first time, to tracker-two.net.
  seeded.day1.push(app.store.add(draftFlow({ start: DAY1, host: 'api.tracker-one.com', findings: [{ type: 'imei' }] })).id);
  seeded.day1.push(app.store.add(draftFlow({ start: DAY1 + 60_000, host: 'cdn.example.com' })).id);
  seeded.day2.push(app.store.add(draftFlow({ start: DAY2, host: 'api.tracker-one.com', findings: [{ type: 'imei' }] })).id);
  seeded.day2.push(app.store.add(draftFlow({ start: DAY2 + 30_000, host: 'log.tracker-two.net', findings: [{ type: 'email', value: 'a@example.org' }] })).id);
  await viaProxy(app.proxyPort, `http://127.0.0.1:${upstream.port}/now`);
  app.store.sessions.addMarker('opened Contacts');
  page = await openLivePage(browser, ui('/'), pageErrors);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=feed-list] [data-flow-id]').length === 5);
}, 120_000);

afterAll(() => tearDown({ browser, app, upstream, dataDir }));

describe('the timeline strip', () => {
  it('sums up the flows it counts, flagged ones by type, and shows the session markers', async () => {
    await expect.poll(stripLabel).toMatch(/^Timeline, flows per 10 minutes: 5 flows from \d{4}-\d\d-\d\d \d\d:\d0:00 to .+, 3 flagged \(IMEI 2, Email 1\); busiest .+ 1 marker\.$/);
    expect(await page.locator('[data-testid=timeline-strip] path[data-type=imei]').count()).toBe(1);
    expect(await page.locator('[data-testid=strip-marker] title').textContent()).toMatch(/opened Contacts$/);
  });

  it('grows with live flows without asking the server again', async () => {
    const asked: string[] = [];
    page.on('request', (r) => r.url().includes('/api/timeline') && asked.push(r.url()));
    await viaProxy(app.proxyPort, `http://127.0.0.1:${upstream.port}/live?imei=865123456789012`);
    await expect.poll(stripLabel).toMatch(/: 6 flows from .*, 4 flagged \(IMEI 3, Email 1\)/);
    expect(asked).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});

/** The strip's x (page pixels) of a time, from the range it says it draws. */
async function stripX(): Promise<{ x: (t: number) => number; y: number }> {
  const svg = page.locator('[data-testid=timeline-strip] svg');
  const box = (await svg.boundingBox())!;
  const from = Number(await svg.getAttribute('data-from'));
  const to = Number(await svg.getAttribute('data-to'));
  return { x: (t) => box.x + ((t - from) / (to - from)) * box.width, y: box.y + box.height / 2 };
}

/** A local `YYYY-MM-DD HH:MM:SS` as the page writes it. */
const localText = (t: number) =>
  page.evaluate((ms) => {
    const d = new Date(ms);
    const p = (n: number) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  }, t);

describe('brushing the timeline', () => {
  it('selects a time range that narrows the feed, the export and the matrix; Clear range resets it', async () => {
    const { x, y } = await stripX();
    // Day 1's first flow starts the strip: the drag begins just inside its left edge.
    await page.mouse.move(x(DAY1) + 2, y);
    await page.mouse.down();
    await page.mouse.move(x(DAY1 + 25 * 60_000), y, { steps: 5 });
    await page.mouse.up();
    await expect.poll(() => feedIds(page)).toEqual([...seeded.day1].reverse());
    expect(await page.locator('[data-testid=strip-range]').count()).toBe(1);
    // Whole 10-minute buckets around day 1's two flows.
    const from = await page.inputValue('[data-testid=range-from]');
    expect(from).toBe(await localText(DAY1));
    expect(await page.inputValue('[data-testid=range-to]')).toBe(await localText(DAY1 + 30 * 60_000));
    expect(await page.textContent('[data-testid=feed-count]')).toMatch(/^2 shown of 6/);

    await page.click('[data-testid=export-menu]');
    const href = (await page.locator('[data-testid=export-filter]').getAttribute('href'))!;
    expect(href).toBe(`/api/export.har?from=${DAY1}&to=${DAY1 + 30 * 60_000}`);
    const har = (await page.evaluate((h) => fetch(h).then((r) => r.json()), href)) as { log: { entries: unknown[] } };
    expect(har.log.entries).toHaveLength(2);
    await page.keyboard.press('Escape');

    await page.click('a.tab:has-text("Collected")');
    await expect.poll(() => page.locator('[data-testid=matrix] tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-domain')))).toEqual(['tracker-one.com']);
    expect(await page.textContent('[data-testid=matrix-range]')).toContain(from);
    await page.click('[data-testid=matrix-range] button');
    await expect.poll(() => page.locator('[data-testid=matrix] tbody tr').count()).toBe(3);
    await page.click('a.tab:has-text("Live feed")');
    await expect.poll(async () => (await feedIds(page)).length).toBe(6);
    expect(await page.locator('[data-testid=strip-range]').count()).toBe(0);
  });

  it('takes a range typed in its fields, the keyboard’s way to one', async () => {
    await page.fill('[data-testid=range-from]', await localText(DAY2));
    await page.fill('[data-testid=range-to]', await localText(DAY2 + 60_000));
    await page.press('[data-testid=range-to]', 'Enter');
    await expect.poll(() => feedIds(page)).toEqual([...seeded.day2].reverse());
    await page.fill('[data-testid=range-to]', 'tomorrow');
    await page.press('[data-testid=range-to]', 'Enter');
    expect(await page.textContent('.range-fields [role=alert]')).toBe('Times as YYYY-MM-DD HH:MM:SS');
    await page.click('[data-testid=range-clear]');
    await expect.poll(async () => (await feedIds(page)).length).toBe(6);
    expect(pageErrors).toEqual([]);
  });
});

describe('dates in the feed', () => {
  const times = () => page.locator('[data-testid=feed-list] [data-flow-id] .c-time').allTextContents();

  it('shows the date on every row while the flows shown span days, the time alone once they are of one day', async () => {
    await expect.poll(async () => (await feedIds(page)).length).toBe(6);
    const all = await times();
    expect(all).toHaveLength(6);
    for (const t of all) expect(t).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    expect(all.at(-1)).toBe(await localText(DAY1));

    await page.fill('[data-testid=range-from]', await localText(DAY2));
    await page.fill('[data-testid=range-to]', await localText(DAY2 + 60_000));
    await page.click('[data-testid=range-apply]');
    await expect.poll(times).toEqual([expect.stringMatching(/^\d{2}:\d{2}:30\.000$/), expect.stringMatching(/^\d{2}:\d{2}:00\.000$/)]);
    await page.click('[data-testid=range-clear]');
    await expect.poll(async () => (await times())[0]).toMatch(/^\d{4}-/);
  });
});

describe('the matrix over a time range', () => {
  it('marks a destination × type pair first seen inside the range as new, in sight and in its label', async () => {
    await page.fill('[data-testid=range-from]', await localText(DAY2));
    await page.fill('[data-testid=range-to]', await localText(DAY2 + 60_000));
    await page.click('[data-testid=range-apply]');
    await page.click('a.tab:has-text("Collected")');
    const fresh = page.locator('[data-testid="cell-tracker-two.net-email"]');
    const again = page.locator('[data-testid="cell-tracker-one.com-imei"]');
    await expect.poll(() => fresh.getAttribute('aria-label')).toMatch(/^Email to tracker-two\.net: new in the selected time range, 1 request, encoded as plain, first seen /);
    expect(await fresh.locator('[data-testid=cell-new]').textContent()).toBe('new');
    // Day 1 had it already: not new on day 2.
    expect(await again.getAttribute('aria-label')).toMatch(/^IMEI to tracker-one\.com: 1 request, encoded as plain, first seen /);
    expect(await again.locator('[data-testid=cell-new]').count()).toBe(0);
    // Without a range nothing is new.
    await page.click('[data-testid=matrix-range] button');
    await expect.poll(() => page.locator('[data-testid=cell-new]').count()).toBe(0);
    await page.click('a.tab:has-text("Live feed")');
    expect(pageErrors).toEqual([]);
  });
});

describe('encodings in the matrix', () => {
  it('shows an md5-hashed IMEI sent through the proxy as an md5+hex chip in its cell, and says so in its label', async () => {
    const hashed = crypto.createHash('md5').update(PHONE.imei).digest('hex');
    await viaProxy(app.proxyPort, `http://127.0.0.1:${upstream.port}/collect`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ did: hashed }) });
    await page.click('a.tab:has-text("Collected")');
    const cell = page.locator('[data-testid="cell-127.0.0.1-imei"]');
    // The IMEI went to 127.0.0.1 in the clear before (the live flow's URL), and now as the md5 digest in hex.
    await expect.poll(() => cell.locator('[data-testid=encoding-chip]').allTextContents()).toEqual(['md5+hex', 'plain']);
    expect(await cell.getAttribute('aria-label')).toMatch(/^IMEI to 127\.0\.0\.1: 2 requests, encoded as md5\+hex, plain, first seen /);
    await page.click('a.tab:has-text("Live feed")');
    expect(pageErrors).toEqual([]);
  });
});
