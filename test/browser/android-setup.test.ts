// The Setup view's "Phones over ADB" in Debian Chromium, against no adb server and then a real one with no
// device attached. (No device or emulator runs here, so the Set up button is not pressed on a real phone.)
import fs from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { Leakscope } from '../../proxy/app';
import { ensureDashboardBuilt, launchBrowser, openLivePage, startApp, tempDataDir } from './helpers';
import { freePort, killAdbServer, startAdbServer } from '../android/adb-server';

let browser: Browser;
let app: Leakscope;
let dataDir: string;
let adbPort: number;
let adbStarted = false;
const pageErrors: string[] = [];

beforeAll(async () => {
  await ensureDashboardBuilt();
  adbPort = await freePort();
  process.env.ANDROID_ADB_SERVER_PORT = String(adbPort);
  dataDir = tempDataDir('android');
  [app, browser] = await Promise.all([startApp(dataDir), launchBrowser()]);
});

afterAll(async () => {
  if (adbStarted) killAdbServer(adbPort);
  await browser?.close();
  await app?.close();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

async function setupView(): Promise<Page> {
  return openLivePage(browser, `http://127.0.0.1:${app.uiPort}/#/setup`, pageErrors);
}

it('without an adb server, says how to start one', async () => {
  const page = await setupView();
  await expect.poll(() => page.locator('[data-testid=adb-error]').textContent()).toMatch(/no adb server on 127\.0\.0\.1:\d+: start it with `adb start-server`/);
  await page.close();
});

it('with a real adb server and nothing attached, says to connect a device; Refresh asks again', async () => {
  const page = await setupView();
  await page.locator('[data-testid=adb-error]').waitFor();
  startAdbServer(adbPort);
  adbStarted = true;
  await page.getByRole('button', { name: 'Refresh' }).click();
  await expect.poll(() => page.locator('.android-devices .empty').textContent()).toContain('No device on the adb server');
  expect(await page.locator('[data-testid=adb-error]').count()).toBe(0);
  expect(pageErrors).toEqual([]);
  await page.close();
});
