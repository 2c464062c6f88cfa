// A lab's dashboard node (`leakscope dashboard --store …`): two instances writing to one real PostgreSQL (a
// throwaway cluster), and a node with no proxy serving the API and the live feed over both.
import fs from 'node:fs';
import path from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboardNode, type DashboardNode } from '../../proxy/dashboard-node';
import { PgFlowReader } from '../../proxy/store/pg-reader';
import type { DeviceInfo } from '../../shared/api';
import type { SessionInfo } from '../../shared/audit';
import type { Flow, FlowSummary } from '../../shared/types';
import { asDashboard, curl, startTestLeakscope, tempDir, waitFor, type TestLeakscope } from '../helpers/leakscope';
import { postgresForTests } from '../helpers/postgres';
import { ensureDashboardBuilt, launchBrowser, openLivePage } from '../browser/helpers';
import { startUpstream, type Upstream } from '../helpers/upstream';

const IMEI = '865123456789012';

/** A dashboard's socket, resuming after `after`, and every flow it has been sent. */
function feed(node: DashboardNode, after: number): { socket: Socket; flows: FlowSummary[]; connected: Promise<void> } {
  const socket = io(node.uiUrl, { auth: { after }, transports: ['websocket'], reconnection: false });
  const flows: FlowSummary[] = [];
  socket.on('flow', (f: FlowSummary) => flows.push(f));
  const connected = new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return { socket, flows, connected };
}

describe('a dashboard node over two instances', () => {
  const env = postgresForTests();
  let upstream: Upstream;
  let node: DashboardNode;
  const apps: TestLeakscope[] = [];
  const sockets: Socket[] = [];

  beforeAll(async () => {
    upstream = await startUpstream();
    const url = env.pg.createDatabase('lab_node');
    const identifiers = path.join(tempDir(), 'identifiers.json');
    fs.writeFileSync(identifiers, JSON.stringify({ devices: [{ name: 'Lab phone', imei: [IMEI] }] }));
    for (const instance of ['rack-a', 'rack-b'])
      apps.push(await startTestLeakscope({ upstreamCaPem: upstream.caPem, store: url, instance, identifiersFile: identifiers, session: 'lab run' }));
    node = await startDashboardNode({ store: url, uiHost: '127.0.0.1', uiPort: 0 });
  }, 120_000);
  afterAll(async () => {
    for (const s of sockets) s.close();
    await node?.close();
    for (const app of apps) await app.close();
    await upstream?.close();
  });

  const through = (app: TestLeakscope, query: string) =>
    curl(['-x', `http://127.0.0.1:${app.proxyPort}`, '--cacert', app.caFile, `${upstream.url}/collect?${query}`]);
  const get = async <T>(p: string) => {
    const res = await fetch(`${node.uiUrl}${p}`, asDashboard(node));
    expect(res.status, p).toBe(200);
    return (await res.json()) as T;
  };

  it('streams flagged flows from both instances live, each with its instance, and serves them from its API', async () => {
    const live = feed(node, 0);
    sockets.push(live.socket);
    await live.connected;
    for (const [i, app] of apps.entries()) {
      expect((await through(app, `imei=${IMEI}&n=${i}`)).code).toBe(0);
      expect((await through(app, `plain=${i}`)).code).toBe(0);
    }
    await waitFor(() => live.flows.length >= 4, 10_000, 'four flows on the live feed');
    const flagged = live.flows.filter((f) => f.findings.length > 0);
    expect(flagged.map((f) => [f.instance, f.findings[0].type, f.findings[0].device]).sort()).toEqual([
      ['rack-a', 'imei', 'Lab phone'],
      ['rack-b', 'imei', 'Lab phone'],
    ]);
    // The node's ids are the store's commit order: one sequence over both instances.
    expect(live.flows.map((f) => f.id)).toEqual([1, 2, 3, 4]);

    const fromApi = await get<FlowSummary[]>('api/flows?flagged=1');
    expect(fromApi.map((f) => [f.id, f.instance])).toEqual(flagged.map((f) => [f.id, f.instance]).reverse());
    const one = await get<Flow>(`api/flows/${flagged[0].id}`);
    expect(one).toMatchObject({ id: flagged[0].id, instance: flagged[0].instance, url: `${upstream.url}/collect?imei=${IMEI}&n=0` });
    expect(one.requestHeaders).toBeTypeOf('object');
    expect((await get<FlowSummary[]>(`api/flows?filter=${encodeURIComponent(`~t imei & ~u n=1`)}`)).map((f) => f.instance)).toEqual(['rack-b']);
    expect((await get<FlowSummary[]>(`api/flows?filter=${encodeURIComponent(`plain`)}`)).map((f) => f.instance).sort()).toEqual(['rack-a', 'rack-b']);

    const har = await fetch(`${node.uiUrl}api/export.har?flagged=1`, asDashboard(node));
    expect(har.status).toBe(200);
    expect(har.headers.get('content-disposition')).toMatch(/^attachment; filename="leakscope-.*\.har"$/);
    const entries = ((await har.json()) as { log: { entries: { request: { url: string }; _leakscope: { instance?: string; findings: unknown[] } }[] } }).log.entries;
    expect(entries.map((e) => [e._leakscope.instance, e._leakscope.findings.length])).toEqual([['rack-a', 1], ['rack-b', 1]]);

    // The same client address behind two instances is two phones.
    const devices = await get<DeviceInfo[]>('api/devices');
    expect(devices.map((d) => [d.instance, d.client, d.flows, d.flagged, d.findings]).sort()).toEqual([
      ['rack-a', '127.0.0.1', 2, 1, 1],
      ['rack-b', '127.0.0.1', 2, 1, 1],
    ]);
    const summary = await get<{ rows: { type: string; count: number; device?: string }[] }>('api/summary');
    expect(summary.rows.map((r) => [r.type, r.count, r.device])).toEqual([['imei', 2, 'Lab phone']]);
    const sessions = await get<SessionInfo[]>('api/sessions');
    expect(sessions.map((s) => [s.name, s.flows, s.flagged])).toEqual([['lab run', 4, 2]]);
    expect((await get<FlowSummary[]>('api/flows?session=lab%20run&limit=10')).length).toBe(4);
    expect(await get<string[]>('api/instances')).toEqual(['rack-a', 'rack-b']);
  });

  it('narrows devices, the matrix and the flows to one instance', async () => {
    expect((await get<DeviceInfo[]>('api/devices?instance=rack-a')).map((d) => [d.instance, d.flows])).toEqual([['rack-a', 2]]);
    const rows = (await get<{ rows: { type: string; count: number }[] }>('api/summary?instance=rack-b')).rows;
    expect(rows.map((r) => [r.type, r.count])).toEqual([['imei', 1]]);
    expect((await get<FlowSummary[]>('api/flows?instance=rack-b&flagged=1')).map((f) => f.instance)).toEqual(['rack-b']);
    expect(await get<DeviceInfo[]>('api/devices?instance=rack-z')).toEqual([]);
    // a time range, as the matrix asks for one: none of these flows is from 2001
    expect((await get<{ rows: unknown[] }>('api/summary?from=2001-01-01T00:00:00Z&to=2001-01-02T00:00:00Z')).rows).toEqual([]);
    const ranged = (await get<{ rows: { count: number; firstEver?: number }[] }>(`api/summary?from=${Date.now() - 3_600_000}`)).rows;
    expect(ranged.map((r) => [r.count, typeof r.firstEver])).toEqual([[2, 'number']]);
    // an instance's own dashboard: its own name narrows nothing, another's finds nothing
    const [a] = apps;
    const own = (await (await fetch(`${a.uiUrl}api/devices?instance=rack-a`)).json()) as DeviceInfo[];
    expect(own.map((d) => d.flows)).toEqual([2]);
    expect(await (await fetch(`${a.uiUrl}api/summary?instance=rack-b`)).json()).toEqual({ rows: [] });
  });

  it('shows each flow\'s instance in the feed and narrows the devices and the matrix with the instance control', async () => {
    await ensureDashboardBuilt();
    const browser = await launchBrowser();
    try {
      const errors: string[] = [];
      const page = await openLivePage(browser, node.uiUrl, errors);
      await page.waitForSelector('[data-testid=flow-instance]:has-text("rack-b")');
      await page.goto(`${node.uiUrl}#/devices`);
      const picker = page.locator('[data-testid=devices-instance]');
      await picker.selectOption('rack-b');
      await page.waitForFunction(() => document.querySelectorAll('[data-testid=devices] tbody tr').length === 1);
      expect(await page.locator('[data-testid=devices] tbody tr td').first().textContent()).toBe('rack-b');
      await page.goto(`${node.uiUrl}#/matrix`);
      const imeiCount = () => page.$eval('[data-testid=matrix] td.cell[data-type=imei] .cell-count', (e) => e.textContent);
      await page.waitForSelector('[data-testid=matrix] td.cell[data-type=imei]');
      expect(await imeiCount()).toBe('2');
      await page.locator('[data-testid=matrix-instance]').selectOption('rack-a');
      await page.waitForFunction(() => document.querySelector('[data-testid=matrix] td.cell[data-type=imei] .cell-count')?.textContent === '1');
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 120_000);

  it('answers what only an instance keeps with 501, and a filter it cannot answer with 400', async () => {
    const identifiers = await fetch(`${node.uiUrl}api/identifiers`, asDashboard(node));
    expect(identifiers.status).toBe(501);
    expect(((await identifiers.json()) as { error: string }).error).toMatch(/dashboard node .* each instance's own dashboard/);
    const marked = await fetch(`${node.uiUrl}api/flows?filter=${encodeURIComponent('~t imei | ~marked')}`, asDashboard(node));
    expect(marked.status).toBe(400);
    expect(((await marked.json()) as { error: string }).error).toMatch(/~marked: marks live in each instance's own store/);
    expect((await fetch(`${node.uiUrl}api/flows?session=nope`, asDashboard(node))).status).toBe(404);
    expect((await fetch(`${node.uiUrl}api/timeline`, asDashboard(node))).status).toBe(501);
  });

  it('catches a dashboard that reconnects up on what it missed, from both instances, each flow once', async () => {
    const [newest] = await get<FlowSummary[]>('api/flows?limit=1');
    for (const [i, app] of apps.entries()) for (let n = 0; n < 3; n++) expect((await through(app, `gap=${i}-${n}`)).code).toBe(0);
    const again = feed(node, newest.id);
    sockets.push(again.socket);
    await again.connected;
    await waitFor(() => again.flows.length >= 6, 10_000, 'the missed flows');
    // then live ones after them
    expect((await through(apps[1], 'after=reconnect')).code).toBe(0);
    await waitFor(() => again.flows.length >= 7, 10_000, 'a live flow after the replay');
    const ids = again.flows.map((f) => f.id);
    expect(ids).toEqual(Array.from({ length: 7 }, (_, i) => newest.id + 1 + i));
    expect(again.flows.filter((f) => f.url.includes('gap=')).map((f) => f.instance).sort()).toEqual(['rack-a', 'rack-a', 'rack-a', 'rack-b', 'rack-b', 'rack-b']);
  });
});

// The filter cases themselves run over both stores in test/store/filter.test.ts.
describe('search over PostgreSQL', () => {
  const env = postgresForTests();

  it('indexes the searchable text with pg_trgm', async () => {
    await (await PgFlowReader.open(env.pg.createDatabase('lab_filter'))).close();
    expect(env.pg.query('lab_filter', "SELECT count(*) FROM pg_indexes WHERE tablename = 'flow_text' AND indexdef LIKE '%gin_trgm_ops%'").trim()).toBe('5');
  });
});
