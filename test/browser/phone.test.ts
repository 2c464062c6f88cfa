// Chromium as the phone: its traffic goes through leakscope with leakscope's CA trusted by SPKI hash.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { spkiHash } from '../../proxy/certs/authority';
import type { Flow, FlowSummary } from '../../shared/types';
import { launchChromium } from '../helpers/browser';
import fs from 'node:fs';
import path from 'node:path';
import { startTestLeakscope, tempDir, waitFor, type TestLeakscope } from '../helpers/leakscope';
import { startH2Upstream, startUpstream, type H2Upstream, type Upstream } from '../helpers/upstream';

const IMEI = '865123456789012';
let upstream: Upstream;
let h2: H2Upstream;
/** the protocol version the h2 upstream saw on each request, by path */
const h2Seen = new Map<string, string>();
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
  h2 = await startH2Upstream((req, res) => {
    h2Seen.set(req.url, req.httpVersion);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>h2 page</title><h1 id="x">hello over h2</h1>');
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
  await h2?.close();
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

it('loads a page over HTTP/2 on both legs and records the flow as HTTP/2', async () => {
  const page = await browser.newPage();
  await page.goto(`${h2.url}/h2-page`);
  expect(await page.textContent('#x')).toBe('hello over h2');
  // What Chromium negotiated with leakscope, and what leakscope spoke to the server.
  expect(await page.evaluate(() => (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).nextHopProtocol)).toBe('h2');
  expect(h2Seen.get('/h2-page')).toBe('2.0');
  const summary = await waitFor(async () => {
    const flows = (await (await fetch(`${app.uiUrl}api/flows`)).json()) as FlowSummary[];
    return flows.find((f) => f.url === `${h2.url}/h2-page`);
  });
  const flow = (await (await fetch(`${app.uiUrl}api/flows/${summary.id}`)).json()) as Flow;
  expect(flow).toMatchObject({ method: 'GET', status: 200, httpVersion: 'HTTP/2' });
  await page.close();
});
