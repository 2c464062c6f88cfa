// The dashboard's settings views against the real leakscope: identifiers editor, canary contacts, device names,
// and the hosts that refused our certificate, each checked through what the server then does.
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { Leakscope } from '../../proxy/app';
import type { Identifiers } from '../../shared/identifiers';
import { curl } from '../helpers/leakscope';
import { ensureDashboardBuilt, launchBrowser, openLivePage, startApp, startUpstream, tempDataDir, viaProxy, tearDown } from './helpers';

let browser: Browser;
let page: Page;
let app: Leakscope;
let upstream: Awaited<ReturnType<typeof startUpstream>>;
let dataDir: string;
const pageErrors: string[] = [];

const ui = (p: string) => `http://127.0.0.1:${app.uiPort}${p}`;
const at = (p: string) => `http://127.0.0.1:${upstream.port}${p}`;
const identifiers = async () => (await (await fetch(ui('/api/identifiers'))).json()) as Identifiers;

beforeAll(async () => {
  await ensureDashboardBuilt();
  dataDir = tempDataDir('settings');
  [app, upstream, browser] = await Promise.all([startApp(dataDir), startUpstream(), launchBrowser()]);
  page = await openLivePage(browser, ui('/'), pageErrors, { viewport: { width: 1280, height: 900 }, acceptDownloads: true });
});

afterAll(() => tearDown({ browser, app, upstream, dataDir }));

describe('settings views', () => {
  it('saves an identifier typed into the editor, and the next request carrying it is flagged', async () => {
    await page.goto(ui('/#/identifiers'));
    const serials = page.locator('fieldset.device-card').first().locator('label.field', { hasText: 'Serial' }).locator('textarea');
    await serials.fill('RM1S0098765');
    await page.click('[data-testid=save-identifiers]');
    await page.waitForSelector('[role=status]:has-text("Saved")');
    expect((await identifiers()).devices[0].serial_number).toEqual(['RM1S0098765']);

    expect(await viaProxy(app.proxyPort, at('/ping?sn=RM1S0098765'))).toBe(200);
    await page.goto(ui('/#/feed'));
    const row = page.locator('[data-flow-id][data-flagged=true]', { hasText: '/ping' });
    await expect.poll(() => row.count()).toBe(1);
  });

  it('refuses an invalid identifiers document in words, naming the phone and the field, keeping what was saved', async () => {
    await page.goto(ui('/#/identifiers'));
    await page.click('button:has-text("Edit as JSON")');
    await page.fill('textarea[aria-label="Identifiers file as JSON"]', JSON.stringify({ devices: [{ imei: [''] }] }));
    await page.click('[data-testid=save-identifiers]');
    expect(await page.textContent('[data-testid=identifier-errors]')).toBe('Phone 1: IMEI 1 must not be empty');
    expect((await identifiers()).devices[0].serial_number).toEqual(['RM1S0098765']);
    // Back to the form takes the JSON's edits along only when they validate: these stay, with what is wrong.
    await page.click('button:has-text("Back to the form")');
    expect(await page.textContent('[data-testid=identifier-errors]')).toBe('Phone 1: IMEI 1 must not be empty');
    await page.fill('textarea[aria-label="Identifiers file as JSON"]', JSON.stringify(await identifiers()));
    await page.click('button:has-text("Back to the form")');
    // In the form: the phone by its name, the location by its line.
    const location = page.locator('fieldset.device-card').first().locator('label.field', { hasText: 'Location' }).locator('textarea');
    await location.fill('39.9042, 116.4074\n95, 116.4');
    await page.click('[data-testid=save-identifiers]');
    expect(await page.textContent('[data-testid=identifier-errors]')).toBe('Phone "Test Phone", location 2: latitude must be a number between -90 and 90, not the number 95');
    await location.fill('');
  });

  it('downloads canary contacts as vCard and watches for them from then on', async () => {
    await page.goto(ui('/#/identifiers'));
    await page.fill('input[type=number]', '4');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=canaries]')]);
    const vcf = fs.readFileSync((await download.path())!, 'utf8');
    const phones = [...vcf.matchAll(/^TEL;TYPE=CELL:(.+)\r$/gm)].map((m) => m[1]);
    expect(vcf.match(/BEGIN:VCARD/g)).toHaveLength(4);
    expect(phones).toHaveLength(4);
    const watched = (await identifiers()).devices.flatMap((d) => d.contacts.flatMap((c) => c.phone));
    expect(watched).toEqual(expect.arrayContaining(phones));
  });

  it('renames a device, and the feed shows the new name', async () => {
    await page.goto(ui('/#/devices'));
    const input = page.locator('[data-testid=devices] input[id="name-127.0.0.1"]');
    await input.fill('Bench RedMi 1S');
    await page.click('[data-testid=devices] button:has-text("Rename")');
    await expect.poll(async () => ((await (await fetch(ui('/api/devices'))).json()) as { client: string; name?: string }[]).find((d) => d.client === '127.0.0.1')?.name).toBe('Bench RedMi 1S');
    expect(await viaProxy(app.proxyPort, at('/after-rename'))).toBe(200);
    await page.goto(ui('/#/feed'));
    await expect.poll(() => page.locator('[data-flow-id]', { hasText: '/after-rename' }).textContent()).toContain('Bench RedMi 1S');
  });

  it('shows every column of the Devices table at phone width, each value labelled, none cut off', async () => {
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 } });
    try {
      await phone.goto(ui('/#/devices'));
      const row = phone.locator('[data-testid=devices] tbody tr').first();
      await row.waitFor();
      const cells = row.locator('td');
      const labels = ['Client', 'Name', 'Flows', 'Flagged', 'Findings', 'Last seen'];
      expect(await cells.count()).toBe(labels.length);
      for (const [i, label] of labels.entries()) {
        const cell = cells.nth(i);
        expect(await cell.isVisible(), label).toBe(true);
        const box = (await cell.boundingBox())!;
        expect(box.x, label).toBeGreaterThanOrEqual(0);
        expect(box.x + box.width, label).toBeLessThanOrEqual(390);
        // The value itself, not only its cell, is inside the screen and not clipped by the cell.
        const clipped = await cell.evaluate((td) => td.scrollWidth > td.clientWidth);
        expect(clipped, label).toBe(false);
        expect(await cell.evaluate((td) => getComputedStyle(td, '::before').content)).toContain(label);
      }
      expect(await cells.nth(0).textContent()).toBe('127.0.0.1');
      expect(await cells.nth(1).locator('input').inputValue()).toBe('Bench RedMi 1S');
      expect(Number(await cells.nth(2).textContent())).toBeGreaterThan(0);
      expect(await cells.nth(5).textContent()).toMatch(/\d{2}:\d{2}/);
      const rename = (await cells.nth(1).locator('button').boundingBox())!;
      expect(rename.x + rename.width).toBeLessThanOrEqual(390);
      expect(await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
      // Still one table to a screen reader, its headers there though out of sight.
      expect(await phone.getByRole('columnheader', { name: 'Last seen' }).count()).toBe(1);
    } finally {
      await phone.close();
    }
  });

  it('fits a phone-width screen: no sideways scrolling, the feed rows still readable', async () => {
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 } });
    try {
      for (const view of ['feed', 'matrix', 'devices', 'identifiers', 'rules', 'setup']) {
        await phone.goto(ui(`/#/${view}`));
        await phone.waitForSelector('[data-testid=connection]');
        const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        expect(overflow, view).toBeLessThanOrEqual(0);
      }
      await phone.goto(ui('/#/feed'));
      const row = phone.locator('[data-flow-id]', { hasText: '/ping' });
      expect((await row.boundingBox())!.width).toBeLessThanOrEqual(390);
    } finally {
      await phone.close();
    }
  });

  it('lists a host whose client refused our certificate, live', async () => {
    await page.goto(ui('/#/setup'));
    expect(await page.locator('[data-testid=tls-errors]').count()).toBe(0);
    // curl does not trust leakscope's CA: it aborts the handshake, as a pinning app does.
    const r = await curl(['-sS', '-x', `http://127.0.0.1:${app.proxyPort}`, `https://localhost:${upstream.port}/pinned`]);
    expect(r.code).not.toBe(0);
    const row = page.locator('[data-testid=tls-errors] tbody tr', { hasText: 'localhost' });
    await row.waitFor();
    expect(await row.textContent()).toContain('Bench RedMi 1S');
    expect(pageErrors).toEqual([]);
  });
});
