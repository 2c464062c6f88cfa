// The dashboard against the real leakscope: real requests through the real proxy, seen in headless Chromium.
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { Leakscope } from '../../proxy/app';
import { DOCS, ensureDashboardBuilt, feedIds, launchBrowser, openLivePage, PHONE, SCREENSHOTS, startApp, startUpstream, tempDataDir, viaProxy, waitLive, tearDown } from './helpers';

let browser: Browser;
let page: Page;
let app: Leakscope;
let upstream: Awaited<ReturnType<typeof startUpstream>>;
let dataDir: string;
const dialogs: string[] = [];
const pageErrors: string[] = [];
let imeiFlowId = 0;

const at = (host: string, p: string) => `http://${host}:${upstream.port}${p}`;

beforeAll(async () => {
  await ensureDashboardBuilt();
  dataDir = tempDataDir('ui');
  [app, upstream, browser] = await Promise.all([startApp(dataDir), startUpstream(), launchBrowser()]);
  page = await openLivePage(browser, `http://127.0.0.1:${app.uiPort}/`, pageErrors);
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
});

afterAll(() => tearDown({ browser, app, upstream, dataDir }));

describe('dashboard against the real proxy', () => {
  it('shows a flagged flow live, within a second, labelled with its identifier type', async () => {
    expect(await feedIds(page)).toEqual([]);
    const status = await viaProxy(app.proxyPort, at('127.0.0.1', '/v1/register'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ device: { imei: PHONE.imei, model: 'Pixel' }, seq: 1 }),
    });
    expect(status).toBe(200);
    const row = await page.waitForSelector('[data-flow-id][data-flagged=true]', { timeout: 1000 });
    imeiFlowId = Number(await row.getAttribute('data-flow-id'));
    // The type is a label, not only a colour.
    expect(await row.$eval('.badge[data-type=imei]', (b) => b.textContent)).toContain('IMEI');
    expect(await row.textContent()).toContain(PHONE.name);
    expect(await row.textContent()).toContain('/v1/register');
  });

  it('counts each identifier per destination in the collected matrix, and a cell filters the feed', async () => {
    for (let i = 0; i < 3; i++) await viaProxy(app.proxyPort, at('localhost', `/track?imsi=${PHONE.imsi}&n=${i}`));
    for (let i = 0; i < 2; i++) await viaProxy(app.proxyPort, at('localhost', `/profile?n=${i}`), { headers: { 'x-user': PHONE.email } });
    await page.click('a.tab:has-text("Collected")');
    const cell = (domain: string, type: string) => page.locator(`[data-testid="cell-${domain}-${type}"] .cell-count`);
    await expect.poll(() => cell('localhost', 'imsi').textContent(), { timeout: 5000 }).toBe('3');
    expect(await cell('localhost', 'email').textContent()).toBe('2');
    expect(await cell('127.0.0.1', 'imei').textContent()).toBe('1');
    expect(await page.locator('[data-testid=matrix] tbody tr').count()).toBe(2);
    // Per device: the only device is the test phone, whose counts are the same.
    await page.selectOption('[data-testid=matrix-device]', PHONE.name);
    expect(await cell('localhost', 'imsi').textContent()).toBe('3');
    if (SCREENSHOTS) await page.screenshot({ path: path.join(DOCS, 'matrix.png') });

    await page.click('[data-testid="cell-localhost-imsi"]');
    await page.waitForSelector('[data-testid=feed-list]');
    await expect.poll(async () => (await feedIds(page)).length).toBe(3);
    expect(await page.inputValue('[data-testid=filter-host]')).toBe('localhost');
    expect(await page.inputValue('[data-testid=filter-type]')).toBe('imsi');
    const texts = await page.locator('[data-testid=feed-list] [data-flow-id]').allTextContents();
    for (const t of texts) expect(t).toMatch(/localhost.*\/track\?imsi=.*IMSI/);
    await page.click('button:has-text("Reset filters")');
  });

  it('narrows the feed with filters and search', async () => {
    await viaProxy(app.proxyPort, at('127.0.0.1', '/static/app.js'));
    await viaProxy(app.proxyPort, at('127.0.0.1', '/static/app.css'));
    await expect.poll(async () => (await feedIds(page)).length).toBe(8);

    await page.check('[data-testid=filter-flagged]');
    await expect.poll(async () => (await feedIds(page)).length).toBe(6);
    await page.selectOption('[data-testid=filter-type]', 'email');
    await expect.poll(async () => (await feedIds(page)).length).toBe(2);
    await page.uncheck('[data-testid=filter-flagged]');
    await page.selectOption('[data-testid=filter-type]', '');

    await page.fill('[data-testid=filter-host]', '127.0.0.1');
    await expect.poll(async () => (await feedIds(page)).length).toBe(3);
    await page.fill('[data-testid=filter-q]', 'static/app.c');
    await expect.poll(async () => (await feedIds(page)).length).toBe(1);
    expect(await page.locator('[data-testid=feed-count]').textContent()).toContain('1 shown of 8');
    // The export link carries the current filter.
    await page.click('[data-testid=export-menu]');
    expect(await page.getAttribute('[data-testid=export-filter]', 'href')).toBe('/api/export.har?host=127.0.0.1&filter=static%2Fapp.c');
    await page.keyboard.press('Escape');
    await page.fill('[data-testid=filter-q]', 'no-such-thing');
    await expect.poll(async () => (await feedIds(page)).length).toBe(0);
    await page.click('button:has-text("Reset filters")');
    await expect.poll(async () => (await feedIds(page)).length).toBe(8);
  });

  it('opens the detail from the keyboard and marks each finding where it is', async () => {
    // Newest first: ArrowDown from nothing selects the top row; walk down to the IMEI flow, Enter opens it.
    const ids = await feedIds(page);
    await page.focus('[data-testid=feed-list]');
    for (let i = 0; i <= ids.indexOf(imeiFlowId); i++) await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await page.waitForURL(`**/#/feed/${imeiFlowId}`);
    const body = page.locator('[data-testid=request-body]');
    const mark = body.locator('mark.finding-mark[data-type~=imei]');
    await expect.poll(() => mark.count()).toBe(1);
    expect(await mark.textContent()).toBe(PHONE.imei);
    expect(await mark.getAttribute('data-label')).toBe('IMEI · plain');
    const findings = await page.locator('[data-testid=findings]').textContent();
    expect(findings).toContain('$.device.imei');
    expect(findings).toContain('encoding: plain');
    expect(findings).toContain('known');
    // The JSON body is pretty-printed.
    expect(await body.locator('pre').textContent()).toContain('"device": {\n    "imei"');
    if (SCREENSHOTS) await page.screenshot({ path: path.join(DOCS, 'detail.png') });

    // A query finding marks the query value; a header finding marks the header value.
    const imsiId = (await (await fetch(`http://127.0.0.1:${app.uiPort}/api/flows?type=imsi&limit=1`)).json())[0].id as number;
    await page.goto(`http://127.0.0.1:${app.uiPort}/#/feed/${imsiId}`);
    await expect.poll(() => page.locator('[data-testid=query] mark[data-type~=imsi]').textContent()).toBe(PHONE.imsi);
    const emailId = (await (await fetch(`http://127.0.0.1:${app.uiPort}/api/flows?type=email&limit=1`)).json())[0].id as number;
    await page.goto(`http://127.0.0.1:${app.uiPort}/#/feed/${emailId}`);
    await expect.poll(() => page.locator('[data-testid=request-headers] mark[data-type~=email]').textContent()).toBe(PHONE.email);

    // Copy as cURL builds a quoted command (shown as text; never run).
    await page.click('[data-testid=copy-curl]');
    const curl = await page.locator('[data-testid=curl]').textContent();
    expect(curl).toContain(`curl 'http://localhost:${upstream.port}/profile?n=`);
    expect(curl).toContain(`-H 'x-user: ${PHONE.email}'`);
    expect(await page.getAttribute('[data-testid=export-one]', 'href')).toBe(`/api/export.har?ids=${emailId}`);
    await waitLive(page);
  });

  it('renders hostile captured content as text and runs none of it', async () => {
    // A raw request, so the URL keeps its angle brackets.
    const body = `<script>alert('body')</script><img src=x onerror="window.__pwned=1;alert('img')">`;
    const target = `http://127.0.0.1:${upstream.port}/<script>alert('path')</script>?q=<img/src=x/onerror=alert('query')>`;
    const raw =
      `POST ${target} HTTP/1.1\r\nHost: 127.0.0.1:${upstream.port}\r\nx-evil: <img src=x onerror="alert('header')">\r\n` +
      `cookie: s=<svg/onload=alert('cookie')>\r\ncontent-type: text/html\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;
    const answer = await new Promise<string>((resolve, reject) => {
      const sock = net.connect(app.proxyPort, '127.0.0.1', () => sock.write(raw));
      let data = '';
      sock.on('data', (d) => (data += d));
      sock.on('close', () => resolve(data));
      sock.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
    // And a JSON body whose keys and values are markup, around a real finding.
    await viaProxy(app.proxyPort, at('127.0.0.1', '/j?x=%3Cscript%3Ealert(9)%3C/script%3E'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ '<img src=x onerror=alert(7)>': '<script>alert(8)</script>', '<b onmouseover=alert(10)>id</b>': PHONE.imei }),
    });

    await page.goto(`http://127.0.0.1:${app.uiPort}/#/feed`);
    await expect.poll(async () => (await feedIds(page)).length).toBe(10);
    const [jsonId, rawId] = await feedIds(page);
    for (const id of [rawId, jsonId]) {
      await page.goto(`http://127.0.0.1:${app.uiPort}/#/feed/${id}`);
      await page.waitForSelector('[data-testid=request-line]');
      await page.waitForTimeout(300);
    }
    // The JSON flow's finding is marked inside the hostile value, still as text.
    expect(await page.locator('[data-testid=request-body] mark[data-type~=imei]').textContent()).toBe(PHONE.imei);
    expect(await page.locator('[data-testid=request-body]').textContent()).toContain('"<b onmouseover=alert(10)>id</b>": "865123456789012"');
    expect(await page.locator('[data-testid=request-body]').textContent()).toContain('<script>alert(8)</script>');
    await page.goto(`http://127.0.0.1:${app.uiPort}/#/feed/${rawId}`);
    await page.waitForSelector('[data-testid=request-line]');
    expect(await page.locator('[data-testid=request-line]').textContent()).toContain("<script>alert('path')</script>");
    expect(await page.locator('[data-testid=request-body]').textContent()).toContain('onerror="window.__pwned=1');
    expect(await page.locator('[data-testid=request-headers]').textContent()).toContain(`<img src=x onerror="alert('header')">`);
    await page.waitForTimeout(500);

    const probe = await page.evaluate(() => ({
      pwned: (window as unknown as { __pwned?: number }).__pwned,
      // The one SVG of the page's own is the timeline strip's chart.
      injected:
        document.querySelectorAll('#root script, #root img, #root iframe, [onerror], [onload]').length +
        [...document.querySelectorAll('#root svg')].filter((svg) => !svg.matches('[data-testid=timeline-strip] > svg.strip-chart')).length,
      scripts: [...document.scripts].map((s) => s.src || 'inline'),
    }));
    expect(probe.pwned).toBeUndefined();
    expect(probe.injected).toBe(0);
    expect(probe.scripts.every((s) => s.startsWith(`http://127.0.0.1:${app.uiPort}/assets/`))).toBe(true);
    expect(dialogs).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it.runIf(SCREENSHOTS)('saves screenshots of the feed and setup', async () => {
    await page.goto(`http://127.0.0.1:${app.uiPort}/#/feed`);
    await expect.poll(async () => (await feedIds(page)).length).toBeGreaterThan(5);
    await page.screenshot({ path: path.join(DOCS, 'feed.png') });
    await page.goto(`http://127.0.0.1:${app.uiPort}/#/setup`);
    await page.waitForSelector('.warning-box');
    await page.screenshot({ path: path.join(DOCS, 'setup.png') });
  });
});
