// The dashboard's Rules view in Debian Chromium against a real leakscope: per-rule counts, add, reorder,
// delete, save to the rules file, and the server's validation message for a bad host.
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDashboardBuilt } from '../browser/helpers';
import { launchChromium } from '../helpers/browser';
import { curl, startTestLeakscope, tempDir, type TestLeakscope } from '../helpers/leakscope';
import { startUpstream, type Upstream } from '../helpers/upstream';

const IMEI = '865123456789012';

describe('Rules view', () => {
  let upstream: Upstream;
  let app: TestLeakscope;
  let browser: Browser;
  let page: Page;
  let rulesFile: string;

  beforeAll(async () => {
    await ensureDashboardBuilt();
    upstream = await startUpstream({ tls: false });
    const dir = tempDir();
    const identifiersFile = path.join(dir, 'ids.json');
    fs.writeFileSync(identifiersFile, JSON.stringify({ devices: [{ name: 'RedMi 1S', imei: [IMEI] }] }));
    rulesFile = path.join(dir, 'rules.json');
    fs.writeFileSync(rulesFile, JSON.stringify({ rules: [{ match: { type: 'imei' }, action: 'block' }] }));
    app = await startTestLeakscope({ identifiersFile, rulesFile });
    await curl(['-x', `http://127.0.0.1:${app.proxyPort}`, `${upstream.url}/x?imei=${IMEI}`]);
    browser = await launchChromium();
    page = await browser.newPage();
    await page.goto(`${app.uiUrl}#/rules`);
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await upstream?.close();
  });

  const savedRules = () => JSON.parse(fs.readFileSync(rulesFile, 'utf8')).rules;

  it('shows each rule with the flows it touched', async () => {
    await page.getByTestId('rule-0-touched').filter({ hasText: '1' }).waitFor();
    expect(await page.getByLabel('Rule 1 action').inputValue()).toBe('block');
  });

  it('adds, reorders and saves rules to the rules file; a moved rule keeps its count', async () => {
    await page.getByTestId('add-rule').click();
    await page.getByLabel('Rule 2 identifier type').selectOption('phone_number');
    await page.getByLabel('Rule 2 host').fill('*.push-example.cn');
    await page.getByLabel('Rule 2 action').selectOption('redact');
    await page.getByLabel('Move rule 2 up').click();
    await page.getByTestId('save-rules').click();
    await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
    expect(savedRules()).toEqual([
      { match: { type: 'phone_number', host: '*.push-example.cn' }, action: 'redact' },
      { match: { type: 'imei' }, action: 'block' },
    ]);
    // Counts come back from the server shortly after the save: the moved rule keeps its 1, the new one starts at 0.
    await page.getByTestId('rule-1-touched').filter({ hasText: '1' }).waitFor();
    await page.getByTestId('rule-0-touched').filter({ hasText: /^0$/ }).waitFor();
  });

  it('shows what is wrong with a bad rule and keeps the file as it was', async () => {
    await page.getByLabel('Rule 1 host').fill('not a host');
    await page.getByTestId('save-rules').click();
    await expect(page.getByTestId('rule-errors').textContent()).resolves.toBe(
      'Rule 1: the host must be a host name such as api.example.cn, or *.example.cn for it and every host under it, not "not a host"',
    );
    expect(savedRules()).toHaveLength(2);
  });

  it('deletes a rule', async () => {
    await page.getByLabel('Delete rule 1').click();
    await page.getByTestId('save-rules').click();
    await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
    expect(savedRules()).toEqual([{ match: { type: 'imei' }, action: 'block' }]);
  });
});
