// The search box in a real Chromium against a real leakscope: a word only in a request body finds its flow, filter
// expressions narrow the feed as they narrow the API, operators are offered after `~`, a bad expression says where
// it is wrong, a flow is marked and commented from its detail (the comment shown as text), and a finding becomes a
// block rule with a stub answer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { Leakscope } from '../../proxy/app';
import type { FlowSummary } from '../../shared/types';
import { ensureDashboardBuilt, feedIds, launchBrowser, openLivePage, PHONE, startApp, startUpstream, tempDataDir, viaProxy, tearDown } from './helpers';

let browser: Browser;
let app: Leakscope;
let upstream: Awaited<ReturnType<typeof startUpstream>>;
let dataDir: string;
let page: Page;
const errors: string[] = [];

const at = (path: string) => `http://127.0.0.1:${upstream.port}${path}`;
const json = { 'content-type': 'application/json' };
/** the server answers each expression; on a loaded 2-core machine that can take more than poll's default second */
const POLL = { timeout: 10_000 };

beforeAll(async () => {
  await ensureDashboardBuilt();
  dataDir = tempDataDir('search');
  [app, browser, upstream] = await Promise.all([startApp(dataDir), launchBrowser(), startUpstream()]);
  await viaProxy(app.proxyPort, at('/notes'), { method: 'POST', headers: json, body: '{"text":"a narwhal was seen"}' });
  await viaProxy(app.proxyPort, at('/device'), { method: 'POST', headers: json, body: JSON.stringify({ imei: PHONE.imei }) });
  await viaProxy(app.proxyPort, at('/static/logo.png'));
  page = await openLivePage(browser, app.uiUrl, errors);
});

afterAll(() => tearDown({ browser, app, upstream, dataDir }));

/** The flow ids the API gives for `filter`, newest first like the feed. */
async function apiIds(filter: string): Promise<number[]> {
  return ((await (await fetch(`${app.uiUrl}api/flows?filter=${encodeURIComponent(filter)}`)).json()) as FlowSummary[]).map((f) => f.id);
}

async function search(text: string): Promise<void> {
  await page.fill('[data-testid=filter-q]', text);
  await page.press('[data-testid=filter-q]', 'Enter');
}

describe('the search box', () => {
  it('finds a flow by a word only in its request body', async () => {
    await expect.poll(async () => (await feedIds(page)).length, POLL).toBe(3);
    await search('narwhal');
    await expect.poll(() => feedIds(page), POLL).toEqual(await apiIds('narwhal'));
    const [id] = await feedIds(page);
    expect((await apiIds('narwhal')).length).toBe(1);
    await page.click(`[data-flow-id="${id}"]`);
    await page.waitForSelector('[data-testid=detail]:has-text("a narwhal was seen")');
    // the word is highlighted where it sits, as text
    expect(await page.locator('[data-testid=detail] [data-testid=search-hit]').allTextContents()).toEqual(['narwhal']);
  });

  it('narrows the feed with expressions as the API narrows', async () => {
    for (const expr of ['~m post', '~m post & !narwhal', '~t imei | ~u logo', '!~t imei']) {
      await search(expr);
      const expected = await apiIds(expr);
      expect(expected.length).toBeGreaterThan(0);
      await expect.poll(() => feedIds(page), { ...POLL, message: expr }).toEqual(expected);
    }
    // A flow arriving while an expression is in force shows when it matches, and only then.
    await search('~bq narwhal');
    await expect.poll(async () => (await feedIds(page)).length, POLL).toBe(1);
    await viaProxy(app.proxyPort, at('/later'), { method: 'POST', headers: json, body: '{"text":"another narwhal"}' });
    await viaProxy(app.proxyPort, at('/later-other'), { method: 'POST', headers: json, body: '{"text":"nothing"}' });
    await expect.poll(() => feedIds(page), POLL).toEqual(await apiIds('~bq narwhal'));
    expect((await feedIds(page)).length).toBe(2);
  });

  it('offers operators after ~ and says where an expression is wrong', async () => {
    await page.fill('[data-testid=filter-q]', '~co');
    await page.waitForSelector('[data-testid=filter-completions] >> text=~conf');
    await page.press('[data-testid=filter-q]', 'Tab');
    expect(await page.inputValue('[data-testid=filter-q]')).toBe('~conf ');
    await page.fill('[data-testid=filter-q]', '~m post & ~nope');
    expect(await page.textContent('[data-testid=filter-error]')).toBe('bad filter at position 11: unknown operator "~nope"');
    await page.fill('[data-testid=filter-q]', '');
    await page.press('[data-testid=filter-q]', 'Enter');
    await expect.poll(async () => (await feedIds(page)).length, POLL).toBe(5);
  });

  it('marks and comments a flow from its detail; ~marked finds it; the comment is text', async () => {
    const [id] = await apiIds('~u /static/logo');
    await page.click(`[data-flow-id="${id}"]`);
    await page.waitForSelector('[data-testid=detail]:has-text("/static/logo.png")');
    await page.check('[data-testid=mark-flow]');
    await page.fill('[data-testid=mark-comment]', '<img src=x onerror=alert(1)> ask the vendor');
    await page.click('[data-testid=save-comment]');
    await page.waitForSelector('.mark-panel [role=status]:has-text("Saved")');
    await page.waitForSelector(`[data-flow-id="${id}"] [data-testid=row-marked]`);
    await search('~marked');
    await expect.poll(() => feedIds(page), POLL).toEqual([id]);
    const stored = (await (await fetch(`${app.uiUrl}api/flows/${id}`)).json()) as FlowSummary;
    expect(stored).toMatchObject({ marked: true, comment: '<img src=x onerror=alert(1)> ask the vendor' });
    expect(await page.locator('[data-testid=detail] img').count()).toBe(0);
    expect(errors).toEqual([]);
  });

  it('makes a block rule from a finding, answering with a stub, that the next request obeys', async () => {
    await search('~t imei');
    await expect.poll(async () => (await feedIds(page)).length, POLL).toBe(1);
    const [id] = await feedIds(page);
    await page.click(`[data-flow-id="${id}"]`);
    await page.click('[data-testid=rule-from-finding-0]');
    await page.waitForSelector('[data-testid=proposed-rule]');
    const row = page.locator('[data-testid=rules] tbody tr').last();
    expect(await row.locator('select').first().inputValue()).toBe('imei');
    expect(await row.locator('input').first().inputValue()).toBe('127.0.0.1');
    expect(await row.locator('input').nth(1).inputValue()).toBe(PHONE.name);
    await row.locator('[data-testid$=-answer]').selectOption('no-content');
    await page.click('[data-testid=save-rules]');
    await page.waitForSelector('[role=status]:has-text("Saved")');
    const rules = (await (await fetch(`${app.uiUrl}api/rules`)).json()) as { rules: unknown[] };
    expect(rules.rules).toEqual([{ match: { type: 'imei', host: '127.0.0.1', device: PHONE.name }, action: 'block', answer: 'no-content' }]);
    expect(await viaProxy(app.proxyPort, at('/device-again'), { method: 'POST', headers: json, body: JSON.stringify({ imei: PHONE.imei }) })).toBe(204);
    expect(errors).toEqual([]);
  });
});
