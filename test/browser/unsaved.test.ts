// Unsaved drafts in Debian Chromium against the real leakscope: a change of view (a tab, Back, Escape on the
// detail) asks first in an in-page dialog, and closing the page gets the browser's warning.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { Leakscope } from '../../proxy/app';
import { ensureDashboardBuilt, feedIds, launchBrowser, openLivePage, startApp, startUpstream, tempDataDir, viaProxy, tearDown } from './helpers';

let browser: Browser;
let page: Page;
let app: Leakscope;
let upstream: Awaited<ReturnType<typeof startUpstream>>;
let dataDir: string;
const pageErrors: string[] = [];

const ui = (p: string) => `http://127.0.0.1:${app.uiPort}${p}`;
const hash = () => page.evaluate(() => location.hash);
const dialog = () => page.getByRole('dialog', { name: 'Leave without saving?' });
const serials = () => page.locator('fieldset.device-card').first().locator('label.field', { hasText: 'Serial' }).locator('textarea');
const tab = (name: string) => page.locator('nav a.tab', { hasText: name });

beforeAll(async () => {
  await ensureDashboardBuilt();
  dataDir = tempDataDir('unsaved');
  [app, upstream, browser] = await Promise.all([startApp(dataDir), startUpstream(), launchBrowser()]);
  await viaProxy(app.proxyPort, `http://127.0.0.1:${upstream.port}/hello`);
  page = await openLivePage(browser, ui('/#/identifiers'), pageErrors);
}, 60_000);

afterAll(() => tearDown({ browser, app, upstream, dataDir }));

describe('unsaved drafts', () => {
  it('asks before a tab change drops the identifiers being edited: Stay keeps them, Leave drops them', async () => {
    await serials().fill('RM1S0011111');
    // Canaries are added to the saved file and the form reloaded: not while it holds changes.
    expect(await page.getByTestId('canaries').isDisabled()).toBe(true);
    await tab('Rules').click();
    await dialog().waitFor();
    expect(await dialog().textContent()).toContain('Your changes to the identifiers are not saved');
    expect(await hash()).toBe('#/identifiers');
    // Focus starts on the safe answer; Escape is that answer too.
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('leave-stay');
    await page.keyboard.press('Escape');
    await dialog().waitFor({ state: 'hidden' });
    expect(await serials().inputValue()).toBe('RM1S0011111');

    await tab('Rules').click();
    await page.getByTestId('leave-stay').click();
    expect(await hash()).toBe('#/identifiers');
    expect(await serials().inputValue()).toBe('RM1S0011111');

    await tab('Rules').click();
    await page.getByTestId('leave-discard').click();
    await page.getByTestId('add-rule').waitFor();
    expect(await hash()).toBe('#/rules');
    await tab('Identifiers').click();
    await expect.poll(() => serials().inputValue()).toBe('');
    expect(await dialog().isVisible()).toBe(false);
  });

  it('asks on Back from an edited rule, and lets every view go once it is saved', async () => {
    await tab('Rules').click();
    await page.getByTestId('add-rule').click();
    await page.evaluate(() => history.back());
    await dialog().waitFor();
    expect(await dialog().textContent()).toContain('the rules');
    await page.getByTestId('leave-stay').click();
    expect(await hash()).toBe('#/rules');
    expect(await page.locator('[data-testid=rules] tbody tr').count()).toBe(1);

    await page.getByTestId('save-rules').click();
    await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
    await tab('Devices').click();
    await page.getByTestId('devices').waitFor();
    expect(await dialog().isVisible()).toBe(false);
  });

  it('asks before Escape closes a flow whose comment is not saved', async () => {
    await tab('Live feed').click();
    await expect.poll(async () => (await feedIds(page)).length).toBe(1);
    await page.locator('[data-flow-id]').first().click();
    await page.getByTestId('mark-comment').fill('ask the vendor');
    await page.getByTestId('detail').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('Escape');
    await dialog().waitFor();
    expect(await dialog().textContent()).toMatch(/the comment on flow \d+/);
    await page.getByTestId('leave-stay').click();
    expect(await page.getByTestId('mark-comment').inputValue()).toBe('ask the vendor');
  });

  it('has the browser warn before the page is left with a draft open', async () => {
    const other = await openLivePage(browser, ui('/#/identifiers'), pageErrors);
    const field = other.locator('fieldset.device-card').first().locator('label.field', { hasText: 'Serial' }).locator('textarea');
    await field.click();
    await other.keyboard.type('RM1S0022222');
    // Leaving the document (a reload, another address) asks the browser's own question; staying keeps the draft.
    const asked: string[] = [];
    other.on('dialog', (d) => (asked.push(d.type()), void d.dismiss()));
    await other.goto('about:blank').catch(() => undefined);
    expect(asked).toEqual(['beforeunload']);
    expect(await field.inputValue()).toBe('RM1S0022222');
    await other.close();
    expect(pageErrors).toEqual([]);
  });
});
