// The vertical slice end to end: real TLS, real curl as the phone, real SQLite, HAR checked by har-validator.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import harValidator from 'har-validator';
import type { Flow, FlowSummary } from '../../shared/types';
import { asDashboard, curl, startTestLeakscope, tempDir, waitFor, type TestLeakscope } from '../helpers/leakscope';
import { startUpstream, type Upstream } from '../helpers/upstream';

const IMEI = '865123456789012';

describe('vertical slice', () => {
  let upstream: Upstream;
  let plain: Upstream;
  let app: TestLeakscope;
  let identifiersFile: string;

  beforeAll(async () => {
    upstream = await startUpstream();
    plain = await startUpstream({ tls: false });
    identifiersFile = path.join(tempDir(), 'ids.json');
    fs.writeFileSync(identifiersFile, JSON.stringify({ devices: [{ name: 'RedMi 1S', imei: [IMEI] }] }));
    app = await startTestLeakscope({ upstreamCaPem: upstream.caPem, identifiersFile });
  });

  afterAll(async () => {
    await app?.close();
    await upstream?.close();
    await plain?.close();
  });

  const proxy = () => ['-x', `http://127.0.0.1:${app.proxyPort}`, '--cacert', app.caFile];
  const api = async <T>(p: string): Promise<T> => (await fetch(`${app.uiUrl}${p.replace(/^\//, '')}`)).json() as Promise<T>;
  const flowFor = (needle: string) =>
    waitFor(async () => (await api<FlowSummary[]>('/api/flows?limit=500')).find((f) => f.url.includes(needle)), 5000, `flow ${needle}`);

  it('passes an HTTPS request through unchanged and records it in SQLite and /api/flows', async () => {
    const headerFile = path.join(tempDir(), 'headers.txt');
    // HTTP/1.1 on both sides, so the server's own status line reaches curl (offered h2, the phone would get h2).
    const r = await curl([...proxy(), '--http1.1', '-D', headerFile, `${upstream.url}/hello?x=1`]);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout.toString())).toEqual({ ok: true, method: 'GET', url: '/hello?x=1', bytes: 0 });
    // The first block is the proxy's answer to CONNECT; the second is the upstream's, passed through.
    const [, upstreamHead] = fs.readFileSync(headerFile, 'utf8').split('\r\n\r\n');
    expect(upstreamHead).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(upstreamHead).toContain('x-upstream: test');
    expect(upstreamHead).toContain('content-type: application/json');

    const summary = await flowFor('/hello?x=1');
    expect(summary).toMatchObject({ method: 'GET', host: '127.0.0.1', status: 200, findings: [] });
    const db = new Database(path.join(app.dataDir, 'flows.db'), { readonly: true });
    const row = db.prepare('SELECT url, status FROM flows WHERE id = ?').get(summary.id);
    db.close();
    expect(row).toEqual({ url: `${upstream.url}/hello?x=1`, status: 200 });
    const flow = await api<Flow>(`/api/flows/${summary.id}`);
    expect(JSON.parse(flow.responseBody!.text)).toMatchObject({ ok: true });
    expect(flow.destination).toMatchObject({ ip: '127.0.0.1', scope: 'loopback' });
  });

  it('keeps a binary body byte for byte', async () => {
    const bytes = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7919) % 256));
    const file = path.join(tempDir(), 'blob.bin');
    fs.writeFileSync(file, bytes);
    const echo = await startUpstream({ handler: (req, res) => res.end(req.body) });
    try {
      const r = await curl([...proxy(), '--data-binary', `@${file}`, '-H', 'content-type: application/octet-stream', `${echo.url}/echo`]);
      expect(Buffer.compare(r.stdout, bytes)).toBe(0);
      expect(Buffer.compare(echo.received[0].body, bytes)).toBe(0);
    } finally {
      await echo.close();
    }
  });

  it('passes plain HTTP through', async () => {
    const r = await curl(['-x', `http://127.0.0.1:${app.proxyPort}`, `${plain.url}/plain`]);
    expect(JSON.parse(r.stdout.toString())).toMatchObject({ url: '/plain' });
    await flowFor(`${plain.url}/plain`);
  });

  it.each([
    ['url', 'query', ['-G', '--data-urlencode', `imei=${IMEI}`], 'imei'],
    ['header', 'header', ['-H', `X-Device-Id: ${IMEI}`], 'x-device-id'],
    ['body', 'json', ['-H', 'content-type: application/json', '--data', JSON.stringify({ device: { id: IMEI } })], '$.device.id'],
    ['body', 'form', ['--data-urlencode', `deviceid=${IMEI}`], 'deviceid'],
  ])('flags the IMEI in the %s (%s)', async (where, label, args, pathName) => {
    await curl([...proxy(), ...args, `${upstream.url}/imei-${label}`]);
    const flow = await flowFor(`/imei-${label}`);
    const finding = flow.findings.find((f) => f.type === 'imei' && f.confidence === 'known');
    expect(finding).toMatchObject({ type: 'imei', value: IMEI, where, path: pathName, device: 'RedMi 1S' });
  });

  it('does not flag a request without identifiers', async () => {
    await curl([...proxy(), '-H', 'content-type: application/json', '--data', '{"hello":"world","ts":1732540800123}', `${upstream.url}/clean`]);
    const flow = await flowFor('/clean');
    expect(flow.findings).toEqual([]);
  });

  it('exports valid HAR 1.2 with _leakscope per entry', async () => {
    const res = await fetch(`${app.uiUrl}api/export.har?flagged=1`, asDashboard(app));
    const har = await res.json();
    await expect(harValidator.har(har)).resolves.toBeTruthy();
    expect(har.log.entries.length).toBeGreaterThanOrEqual(4);
    for (const entry of har.log.entries) {
      expect(entry._leakscope.findings.length).toBeGreaterThan(0);
      expect(entry._leakscope.client).toBe('127.0.0.1');
      expect(entry._leakscope.destination).toMatchObject({ ip: '127.0.0.1' });
    }
  });

  it('serves the setup page and the CA, also through the proxy', async () => {
    const page = await (await fetch(`${app.uiUrl}setup`)).text();
    expect(page).toContain(`:${app.proxyPort}`);
    expect(page).toMatch(/<img src="data:image\/png;base64,/);
    expect(page).toContain('/ca.crt');
    expect(await (await fetch(`${app.uiUrl}ca.pem`)).text()).toBe(app.caPem);
    const der = Buffer.from(await (await fetch(`${app.uiUrl}ca.crt`)).arrayBuffer());
    expect(der[0]).toBe(0x30); // DER SEQUENCE
    const viaProxy = await curl(['-x', `http://127.0.0.1:${app.proxyPort}`, '-L', 'http://leakscope.setup/']);
    expect(viaProxy.stdout.toString()).toContain('leakscope — set up a test phone');
    const caViaProxy = await curl(['-x', `http://127.0.0.1:${app.proxyPort}`, 'http://leakscope.setup/ca.pem']);
    expect(caViaProxy.stdout.toString()).toBe(app.caPem);
  });

  it('keeps flows across a restart', async () => {
    const before = app.store.count();
    expect(before).toBeGreaterThan(0);
    const { dataDir } = app;
    await app.close();
    app = await startTestLeakscope({ upstreamCaPem: upstream.caPem, identifiersFile, dataDir });
    const flows = await api<FlowSummary[]>('/api/flows?limit=1000');
    expect(flows.length).toBe(before);
    expect(fs.statSync(path.join(dataDir, 'ca', 'keys', 'ca.private.key')).mode & 0o777).toBe(0o600);
  });
});
