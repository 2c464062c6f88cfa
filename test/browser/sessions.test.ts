// The Sessions and Diff views against the real leakscope: sessions started, renamed and ended from the dashboard,
// markers on the timeline, the header's session picker narrowing the feed and the matrix, the diff of the two
// sessions, and the Report button writing the bundle.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { Leakscope } from '../../proxy/app';
import { DOCS, ensureDashboardBuilt, feedIds, launchBrowser, openLivePage, PHONE, SCREENSHOTS, startApp, startUpstream, tempDataDir, viaProxy, tearDown } from './helpers';

let browser: Browser;
let page: Page;
let app: Leakscope;
let upstream: Awaited<ReturnType<typeof startUpstream>>;
let dataDir: string;
const pageErrors: string[] = [];
const at = (p: string) => `http://127.0.0.1:${upstream.port}${p}`;
const post = (p: string, body: unknown) => viaProxy(app.proxyPort, at(p), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

beforeAll(async () => {
  await ensureDashboardBuilt();
  dataDir = tempDataDir('sessions');
  [app, upstream, browser] = await Promise.all([startApp(dataDir), startUpstream(), launchBrowser()]);
  page = await openLivePage(browser, `http://127.0.0.1:${app.uiPort}/#/sessions`, pageErrors, { viewport: { width: 1280, height: 860 } });
}, 120_000);

afterAll(() => tearDown({ browser, app, upstream, dataDir }));

describe('sessions in the dashboard', () => {
  it('renames the running session, logs markers, and starts the next one', async () => {
    const first = page.locator('[data-testid=sessions] tbody tr').first();
    await expect.poll(() => first.locator('.pill.rec').count()).toBe(1);
    await first.locator('button:has-text("rename")').click();
    await page.fill('[data-testid^=rename-]:not([data-testid^=rename-open])', 'before update');
    await page.click('[data-testid^=rename-][data-testid$=-submit]');
    await expect.poll(() => page.locator('[data-testid=recording]').textContent()).toContain('before update');

    await page.fill('[data-testid=marker-text]', 'SIM inserted');
    await page.click('[data-testid=marker-text-submit]');
    await post('/v1/register', { imei: PHONE.imei, imsi: PHONE.imsi });
    await post('/v1/profile', { email: PHONE.email });
    await page.fill('[data-testid=marker-text]', 'opened Contacts');
    await page.click('[data-testid=marker-text-submit]');
    await expect.poll(() => page.locator('[data-testid=timeline] li.marker').allTextContents()).toEqual([expect.stringContaining('SIM inserted'), expect.stringContaining('opened Contacts')]);

    await page.fill('[data-testid=session-name]', 'after update');
    await page.click('[data-testid=session-name-submit]');
    await expect.poll(() => page.locator('[data-testid=recording]').textContent()).toContain('after update');
    await post('/v1/register', { imsi: PHONE.imsi });
    await post('/v1/heartbeat', { ok: 1 });
    // The view refreshes its counts every 3 s.
    await expect.poll(() => page.locator('[data-testid=sessions] tbody tr').evaluateAll((rows) => rows.map((r) => [r.getAttribute('data-session'), r.querySelectorAll('td')[3].textContent])), { timeout: 8000 }).toEqual([
      ['before update', '2'],
      ['after update', '2'],
    ]);
    expect(await page.locator('[data-testid=timeline] .timeline-bar').count()).toBe(2);
    expect(await page.locator('[data-testid=timeline] .timeline-marker').count()).toBe(2);
  });

  it('narrows the feed and the matrix to the picked session', async () => {
    const before = (await page.locator('[data-testid=session-picker] option', { hasText: 'before update' }).getAttribute('value'))!;
    await page.click('a.tab:has-text("Live feed")');
    await expect.poll(async () => (await feedIds(page)).length).toBe(4);
    await page.selectOption('[data-testid=session-picker]', before);
    await expect.poll(async () => (await feedIds(page)).length).toBe(2);
    await page.click('[data-testid=export-menu]');
    expect(await page.getAttribute('[data-testid=export-filter]', 'href')).toBe(`/api/export.har?session=${before}`);
    await page.keyboard.press('Escape');
    await page.click('a.tab:has-text("Collected")');
    await expect.poll(() => page.locator('[data-testid="cell-127.0.0.1-email"] .cell-count').textContent()).toBe('1');
    expect(await page.locator('[data-testid="cell-127.0.0.1-imsi"] .cell-count').textContent()).toBe('1');
    await page.selectOption('[data-testid=session-picker]', '');
    await expect.poll(() => page.locator('[data-testid="cell-127.0.0.1-imsi"] .cell-count').textContent()).toBe('2');
  });

  it('shows the diff of the two sessions: IMEI and e-mail lost, IMSI kept', async () => {
    await page.click('a.tab:has-text("Diff")');
    await expect.poll(() => page.locator('[data-testid=diff-lost] tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-type')))).toEqual(['email', 'imei']);
    expect(await page.locator('[data-testid=diff-kept] tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-type')))).toEqual(['imsi']);
    expect(await page.textContent('[data-testid=diff-gained]')).toBe('None.');
    expect(await page.locator('[data-testid=diff-lost] tbody tr').first().textContent()).toContain(PHONE.name);
    if (SCREENSHOTS) await page.screenshot({ path: path.join(DOCS, 'diff.png') });
    // Swapped, the same pairs are gained.
    const [a, b] = [await page.inputValue('[data-testid=diff-a]'), await page.inputValue('[data-testid=diff-b]')];
    await page.selectOption('[data-testid=diff-a]', b);
    await page.selectOption('[data-testid=diff-b]', a);
    await expect.poll(() => page.locator('[data-testid=diff-gained] tbody tr').count()).toBe(2);
  });

  it('ends a session, and its Report button writes the bundle against the other', async () => {
    await page.click('a.tab:has-text("Sessions")');
    const after = page.locator('[data-testid=sessions] tbody tr[data-session="after update"]');
    await after.locator('button:has-text("End")').click();
    await expect.poll(() => page.locator('[data-testid=recording]').textContent()).toContain('No session is open');
    await page.locator('[data-testid=sessions] tbody tr[data-session="before update"] button:has-text("Report")').click();
    await page.selectOption('[data-testid=report-against]', { label: 'after update' });
    await page.click('[data-testid=write-report]');
    const sha = await page.locator('[data-testid=report-sha]').textContent({ timeout: 60_000 });
    expect(sha).toMatch(/^[0-9a-f]{64}$/);
    const href = await page.getAttribute('[data-testid=report-links] a:has-text("report.html")', 'href');
    const report = await browser.newPage();
    const res = await report.goto(new URL(href!, `http://127.0.0.1:${app.uiPort}/`).href);
    expect(res?.status()).toBe(200);
    expect(await report.textContent('[data-testid=har-sha256]')).toBe(sha);
    expect(await report.locator('[data-testid=diff-gained] tbody tr').count()).toBe(2);
    await report.close();
    expect(pageErrors).toEqual([]);
  }, 90_000);
});
