// Debian's chromium driven by playwright-core (never a downloaded browser): the report's PDF printer, and the
// browser the tests drive.
import fs from 'node:fs';
import type { Browser, LaunchOptions } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

export function hasChromium(): boolean {
  return fs.existsSync(CHROMIUM_PATH);
}

/** playwright-core is loaded on first use: `start` needs it only when a report is written (a tenth of start-up). */
export async function launchChromium(extraArgs: string[] = [], options: LaunchOptions = {}): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS, ...extraArgs], ...options });
}
