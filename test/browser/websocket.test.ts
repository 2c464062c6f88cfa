// A WebSocket flow in the dashboard's detail, in headless Chromium: the handshake's headers and every message both
// ways, the finding marked in the message that carried it, captured text shown as text, and no cURL for it.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import type { Leakscope } from '../../proxy/app';
import type { Flow, FlowSummary } from '../../shared/types';
import { tunnel } from '../faults/raw';
import { waitFor } from '../helpers/leakscope';
import { ensureDashboardBuilt, launchBrowser, openLivePage, PHONE, startApp, tempDataDir } from './helpers';

const HOSTILE = '<img src=x onerror=window.__ran=1>';

describe('WebSocket flow detail', () => {
  let app: Leakscope;
  let server: http.Server;
  let browser: Browser;
  let page: Page;
  let dataDir: string;
  const pageErrors: string[] = [];
  const dialogs: string[] = [];

  beforeAll(async () => {
    await ensureDashboardBuilt();
    dataDir = tempDataDir('ws');
    server = http.createServer();
    const wss = new WebSocketServer({ server });
    wss.on('connection', (ws) => ws.on('message', (data) => ws.send(`got ${data.toString().length} bytes`)));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    [app, browser] = await Promise.all([startApp(dataDir), launchBrowser()]);
    page = await openLivePage(browser, `http://127.0.0.1:${app.uiPort}/`, pageErrors);
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    server?.closeAllConnections();
    server?.close();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('lists the messages with the finding marked in place', async () => {
    const port = (server.address() as AddressInfo).port;
    const raw = await tunnel(app.proxyPort, `127.0.0.1:${port}`);
    const ws = new WebSocket(`ws://127.0.0.1:${port}/push`, { createConnection: () => raw });
    const replies: string[] = [];
    ws.on('message', (d) => replies.push(d.toString()));
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    ws.send(JSON.stringify({ hello: HOSTILE }));
    ws.send(JSON.stringify({ device: { imei: PHONE.imei } }));
    await waitFor(() => replies.length >= 2 || undefined, 5000, 'the replies');
    ws.close();

    const id = await waitFor(async () => {
      const flows = (await (await fetch(`http://127.0.0.1:${app.uiPort}/api/flows?flagged=1`)).json()) as FlowSummary[];
      const summary = flows.find((f) => f.kind === 'websocket');
      const flow = summary && ((await (await fetch(`http://127.0.0.1:${app.uiPort}/api/flows/${summary.id}`)).json()) as Flow);
      return flow?.closedBy ? flow.id : undefined;
    }, 5000, 'the WebSocket flow, closed');
    await page.goto(`http://127.0.0.1:${app.uiPort}/#/feed/${id}`);
    const messages = page.locator('[data-testid=ws-message]');
    await expect.poll(() => messages.count()).toBe(4);
    const flagged = page.locator('[data-testid=ws-message].has-finding');
    expect(await flagged.count()).toBe(1);
    expect(await flagged.locator('mark.finding-mark[data-type~=imei]').textContent()).toBe(PHONE.imei);
    expect(await flagged.textContent()).toContain('phone → server');
    expect(await messages.nth(0).textContent()).toContain(HOSTILE);
    expect(await page.locator('[data-testid=ws-messages]').textContent()).toContain('server → phone');
    // The handshake is shown; an exchange with no body has no "no response", and no cURL that could not repeat it.
    expect(await page.locator('[data-testid=response-headers]').textContent()).toContain('sec-websocket-accept');
    expect(await page.locator('[data-testid=detail]').textContent()).not.toContain('no response');
    expect(await page.locator('[data-testid=copy-curl]').count()).toBe(0);
    // The finding's entry jumps to its mark.
    await page.locator('[data-testid=findings] button').first().click();
    await expect.poll(() => flagged.locator('mark.flash').count()).toBe(1);
    // Captured text stayed text.
    expect(await page.locator('[data-testid=ws-messages] img').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __ran?: number }).__ran)).toBeUndefined();
    expect(dialogs).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
