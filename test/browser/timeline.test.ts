// Time in the dashboard, against the real leakscope in Debian Chromium: the timeline strip over the feed (counted
// by the server, grown by live flows), with flows seeded through the store on two past days and others sent
// through the real proxy now.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { Leakscope } from '../../proxy/app';
import { draftFlow } from '../helpers/flows';
import { ensureDashboardBuilt, feedIds, launchBrowser, openLivePage, startApp, startUpstream, tempDataDir, tearDown, viaProxy } from './helpers';

let browser: Browser;
let page: Page;
let app: Leakscope;
let upstream: Awaited<ReturnType<typeof startUpstream>>;
let dataDir: string;
const pageErrors: string[] = [];
const ui = (p: string) => `http://127.0.0.1:${app.uiPort}${p}`;

const DAY1 = Date.UTC(2026, 10, 29, 12, 0, 0);
const DAY2 = Date.UTC(2026, 10, 30, 12, 0, 0);
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
    await expect.poll(stripLabel).toMatch(/^Timeline, flows per 10 minutes: 5 flows from 2026-11-29 \d\d:\d0:00 to .+, 3 flagged \(IMEI 2, Email 1\); busiest .+ 1 markers\.$/);
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
