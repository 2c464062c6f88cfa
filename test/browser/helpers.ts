// Shared set-up for the browser tests: the built dashboard, the real leakscope (proxy + UI server), an upstream
// HTTP server, requests through the real proxy, and one headless Debian Chromium per test file.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';
import { ProxyAgent, request } from 'undici';
import { startLeakscope, type Leakscope } from '../../proxy/app';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DIST_INDEX = path.join(ROOT, 'dashboard/dist/index.html');

/** The known values the tests plant; the identifiers file maps them to "Test Phone" on 127.0.0.1. */
export const PHONE = {
  name: 'Test Phone',
  imei: '865123456789012',
  imsi: '460001234567890',
  email: 'tester@example.org',
};

function newestMtime(dir: string): number {
  let t = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs);
  }
  return t;
}

/** Builds dashboard/dist when it is missing or older than its sources (one builder at a time across workers). */
export async function ensureDashboardBuilt(): Promise<void> {
  const fresh = () =>
    fs.existsSync(DIST_INDEX) &&
    fs.statSync(DIST_INDEX).mtimeMs >=
      Math.max(newestMtime(path.join(ROOT, 'dashboard/src')), fs.statSync(path.join(ROOT, 'dashboard/index.html')).mtimeMs);
  if (fresh()) return;
  const lock = path.join(os.tmpdir(), 'leakscope-dashboard-build.lock');
  for (let i = 0; i < 600; i++) {
    try {
      fs.mkdirSync(lock);
    } catch {
      // Someone else builds; a lock older than two minutes is stale.
      try {
        if (Date.now() - fs.statSync(lock).mtimeMs > 120_000) fs.rmSync(lock, { recursive: true, force: true });
      } catch {
        /* gone already */
      }
      await new Promise((r) => setTimeout(r, 200));
      continue;
    }
    try {
      if (!fresh()) execFileSync(process.execPath, [path.join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', 'dashboard', '--logLevel', 'warn'], { cwd: ROOT, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'production' } });
      return;
    } finally {
      fs.rmSync(lock, { recursive: true, force: true });
    }
  }
  throw new Error('timed out waiting for the dashboard build');
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}

export function tempDataDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `leakscope-${prefix}-`));
  fs.writeFileSync(
    path.join(dir, 'test-identifiers.json'),
    JSON.stringify({ devices: [{ name: PHONE.name, client: '127.0.0.1', imei: [PHONE.imei], imsi: [PHONE.imsi], email: [PHONE.email] }] }),
  );
  return dir;
}

export function startApp(dataDir: string, ports: { proxyPort?: number; uiPort?: number } = {}): Promise<Leakscope> {
  return startLeakscope({
    proxyPort: ports.proxyPort ?? 0,
    uiPort: ports.uiPort ?? 0,
    uiHost: '127.0.0.1',
    proxyHost: '127.0.0.1',
    dataDir,
    identifiersFile: path.join(dataDir, 'test-identifiers.json'),
  });
}

/** An upstream that answers every request with a small JSON body. */
export async function startUpstream(): Promise<{ port: number; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end('{"ok":true}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** One request through the real proxy; resolves when the whole response has been read. */
export async function viaProxy(
  proxyPort: number,
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<number> {
  const agent = new ProxyAgent(`http://127.0.0.1:${proxyPort}`);
  try {
    const res = await request(url, { dispatcher: agent, method: (opts.method ?? 'GET') as 'GET', headers: opts.headers, body: opts.body });
    await res.body.text();
    return res.statusCode;
  } finally {
    await agent.close();
  }
}

/** Flow ids rendered in the feed, top to bottom. */
export function feedIds(page: Page): Promise<number[]> {
  return page.$$eval('[data-testid=feed-list] [data-flow-id]', (rows) =>
    rows.map((r) => ({ id: Number(r.getAttribute('data-flow-id')), top: r.getBoundingClientRect().top })).sort((a, b) => a.top - b.top).map((r) => r.id),
  );
}

export async function waitLive(page: Page): Promise<void> {
  await page.waitForSelector('[data-testid=connection]:has-text("live")', { timeout: 10_000 });
}

/** A page on the dashboard once it is live; its uncaught errors are collected in `errors`. */
export async function openLivePage(browser: Browser, url: string, errors: string[], options: BrowserContextOptions = {}): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, ...options });
  page.setDefaultTimeout(5000);
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await waitLive(page);
  return page;
}

export const SCREENSHOTS = process.env.LEAKSCOPE_SCREENSHOTS === '1';
export const DOCS = path.join(ROOT, 'docs');

/** Closes what a browser test's beforeAll started, whichever parts of it did start, and removes its data dir. */
export async function tearDown(started: { browser?: Browser; app?: { close(): Promise<void> }; upstream?: { close(): Promise<void> }; dataDir?: string }): Promise<void> {
  await started.browser?.close();
  await started.app?.close();
  await started.upstream?.close();
  if (started.dataDir) fs.rmSync(started.dataDir, { recursive: true, force: true });
}
