// Chromium as the phone: its traffic goes through leakscope with leakscope's CA trusted by SPKI hash.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { spkiHash } from '../../proxy/certs/authority';
import type { FlowSummary } from '../../shared/types';
import { launchChromium } from '../helpers/browser';
import fs from 'node:fs';
import path from 'node:path';
import { startTestLeakscope, tempDir, waitFor, type TestLeakscope } from '../helpers/leakscope';
import { startUpstream, type Upstream } from '../helpers/upstream';

const IMEI = '865123456789012';
let upstream: Upstream;
let app: TestLeakscope;
let browser: Browser;

beforeAll(async () => {
  upstream = await startUpstream({
    handler: (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!doctype html><title>phone page</title><h1 id="x">hello from upstream</h1>');
    },
    webSocket: true,
  });
  const identifiersFile = path.join(tempDir(), 'ids.json');
  fs.writeFileSync(identifiersFile, JSON.stringify({ devices: [{ name: 'Pixel', imei: [IMEI] }] }));
  app = await startTestLeakscope({ upstreamCaPem: upstream.caPem, identifiersFile });
  browser = await launchChromium([
    `--proxy-server=http://127.0.0.1:${app.proxyPort}`,
    // Chromium sends loopback traffic direct unless told otherwise.
    '--proxy-bypass-list=<-loopback>',
    `--ignore-certificate-errors-spki-list=${await spkiHash(app.caPem)}`,
  ]);
});

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await upstream?.close();
});

it('loads an HTTPS page through the proxy and the flow appears', async () => {
  const page = await browser.newPage();
  await page.goto(`${upstream.url}/phone-page`);
  expect(await page.textContent('#x')).toBe('hello from upstream');
  const flow = await waitFor(async () => {
    const flows = (await (await fetch(`${app.uiUrl}api/flows`)).json()) as FlowSummary[];
    return flows.find((f) => f.url === `${upstream.url}/phone-page`);
  });
  expect(flow).toMatchObject({ method: 'GET', status: 200, host: '127.0.0.1' });
  expect(flow.client).toBe('127.0.0.1');
  await page.close();
});

it('scans what the page sends over a WebSocket and passes it on', async () => {
  const page = await browser.newPage();
  await page.goto(`${upstream.url}/phone-page`);
  const reply = await page.evaluate(
    ({ url, imei }) =>
      new Promise<string>((resolve, reject) => {
        const ws = new WebSocket(url);
        ws.onopen = () => ws.send(JSON.stringify({ event: 'register', device: { imei } }));
        ws.onmessage = (e) => resolve(String(e.data));
        ws.onerror = () => reject(new Error('websocket failed'));
      }),
    { url: upstream.url.replace('https:', 'wss:') + '/socket', imei: IMEI },
  );
  expect(reply).toBe('ack');
  expect(upstream.messages).toContain(JSON.stringify({ event: 'register', device: { imei: IMEI } }));
  const flow = await waitFor(async () => {
    const flows = (await (await fetch(`${app.uiUrl}api/flows?flagged=1`)).json()) as FlowSummary[];
    return flows.find((f) => f.kind === 'websocket' && f.url.endsWith('/socket'));
  });
  expect(flow.findings).toContainEqual(expect.objectContaining({ type: 'imei', where: 'websocket', path: '$.device.imei', device: 'Pixel' }));
  await page.close();
});
