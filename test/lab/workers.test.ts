// `start --workers 2`: two proxy processes behind one port, their flows in the one SQLite store, seen by the one
// dashboard; edits made there reach both; a worker killed mid-exchange is replaced and its exchange recorded.
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io } from 'socket.io-client';
import WebSocket from 'ws';
import type { ServerConfig } from '../../shared/api';
import type { Flow, FlowSummary, TlsErrorEvent } from '../../shared/types';
import { WORKER_DIED } from '../../proxy/hub';
import { tunnel } from '../faults/raw';
import { asDashboard, curl, startTestLeakscope, tempDir, waitFor, type TestLeakscope } from '../helpers/leakscope';
import { startUpstream, type Upstream } from '../helpers/upstream';

const IMEI = '865123456789012';
const LATER_IMEI = '490154203237518';

describe('start --workers 2', () => {
  let upstream: Upstream;
  let plain: Upstream;
  let app: TestLeakscope;

  beforeAll(async () => {
    const answer = (url: string, res: import('node:http').ServerResponse) => {
      if (url.includes('/hang/') || url.includes('/freeze/')) return; // only a dead worker or the stop ends it
      res.end(`ok ${url}`);
    };
    upstream = await startUpstream({ handler: (req, res) => answer(req.url, res), webSocket: true });
    plain = await startUpstream({ tls: false, handler: (req, res) => answer(req.url, res) });
    const identifiersFile = path.join(tempDir(), 'ids.json');
    fs.writeFileSync(identifiersFile, JSON.stringify({ devices: [{ name: 'RedMi 1S', imei: [IMEI] }] }));
    app = await startTestLeakscope({ upstreamCaPem: upstream.caPem, identifiersFile, workers: 2, stopGrace: 1000, hungWorkerMs: 4000 });
  });

  afterAll(async () => {
    await app?.close();
    await upstream?.close();
    await plain?.close();
  });

  const proxy = () => ['-x', `http://127.0.0.1:${app.proxyPort}`, '--cacert', app.caFile];
  const api = async <T>(p: string): Promise<T> => (await fetch(`${app.uiUrl}api/${p}`)).json() as Promise<T>;
  const flows = (needle: string) => api<FlowSummary[]>(`flows?limit=1000&q=${encodeURIComponent(needle)}`);
  const workers = async () => (await api<ServerConfig>('config')).workers ?? [];
  /** The two workers serving once `gone` has been replaced. */
  const replaced = (gone: number, what = 'a new worker') =>
    waitFor(async () => {
      const now = await workers();
      return now.length === 2 && !now.includes(gone) && now;
    }, 30_000, what);

  it('serves flagged HTTP and HTTPS requests; every flow is in the one store, with its findings', async () => {
    expect(await workers()).toHaveLength(2);
    // One connection per curl: the primary hands connections to the workers in turn.
    const runs = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        i % 2 === 0
          ? curl([...proxy(), `${upstream.url}/served/${i}?imei=${IMEI}`])
          : curl([...proxy(), '--data', JSON.stringify({ device: { imei: IMEI } }), '-H', 'content-type: application/json', `${plain.url}/served/${i}`]),
      ),
    );
    for (const [i, r] of runs.entries()) {
      expect(r.stderr).toBe('');
      expect(r.stdout.toString()).toBe(`ok /served/${i}${i % 2 === 0 ? `?imei=${IMEI}` : ''}`);
    }
    // Each response ended only once its flow was stored: no wait is needed before reading.
    const seen = await flows('/served/');
    expect(seen).toHaveLength(8);
    for (const f of seen) {
      expect(f.status).toBe(200);
      expect(f.findings).toEqual([expect.objectContaining({ type: 'imei', value: IMEI, confidence: 'known', device: 'RedMi 1S' })]);
    }
    const db = new Database(path.join(app.dataDir, 'flows.db'), { readonly: true });
    const stored = db.prepare("SELECT COUNT(*) AS n FROM flows WHERE url LIKE '%/served/%' AND flagged = 1 AND session_id = ?").get(app.session.id) as { n: number };
    db.close();
    expect(stored.n).toBe(8);
    const one = await api<Flow>(`flows/${seen[0].id}`);
    expect(one.instance).toBe(app.instance);
  });

  it('streams the workers\' flows and their clients\' TLS failures to the dashboard, live', async () => {
    const live = io(app.uiUrl, { transports: ['websocket'], reconnection: false });
    const flowsSeen: FlowSummary[] = [];
    const failures: TlsErrorEvent[] = [];
    live.on('flow', (f: FlowSummary) => flowsSeen.push(f));
    live.on('tls-error', (e: TlsErrorEvent) => failures.push(e));
    await new Promise<void>((resolve, reject) => live.once('connect', resolve).once('connect_error', reject));
    try {
      await Promise.all([0, 1, 2, 3].map((i) => curl([...proxy(), `${upstream.url}/live/${i}?imei=${IMEI}`])));
      await waitFor(() => flowsSeen.filter((f) => f.url.includes('/live/')).length === 4, 10_000, 'four live flows');
      for (const f of flowsSeen) expect(f.findings).toEqual([expect.objectContaining({ type: 'imei', value: IMEI })]);
      // curl without our CA refuses the worker's certificate
      expect((await curl(['-x', `http://127.0.0.1:${app.proxyPort}`, `https://localhost:${upstream.port}/pinned`])).code).not.toBe(0);
      expect(await waitFor(() => failures[0], 10_000, 'a live tls-error')).toMatchObject({ host: 'localhost', kind: 'untrusted' });
      expect(await api<TlsErrorEvent[]>('tls-errors')).toEqual([expect.objectContaining({ host: 'localhost', kind: 'untrusted' })]);
    } finally {
      live.close();
    }
  });

  it('serves the setup page through the proxy, with the port the workers share', async () => {
    const r = await curl(['-x', `http://127.0.0.1:${app.proxyPort}`, '-L', 'http://leakscope.setup/']);
    expect(r.stdout.toString()).toContain(`:${app.proxyPort}`);
  });

  it('an identifiers edit saved on the dashboard reaches every worker', async () => {
    const put = await fetch(`${app.uiUrl}api/identifiers`, asDashboard(app, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ devices: [{ name: 'RedMi 1S', imei: [IMEI, LATER_IMEI] }] }) }));
    expect(put.status).toBe(200);
    // The workers hear of it just after the save: a request may still be judged by the old list for a moment.
    await waitFor(
      async () => {
        const runs = await Promise.all([0, 1, 2, 3].map((i) => curl([...proxy(), `${upstream.url}/edited/${i}?imei=${LATER_IMEI}`])));
        const urls = runs.map((_, i) => `${upstream.url}/edited/${i}?imei=${LATER_IMEI}`);
        const got = await flows('/edited/');
        return urls.every((url) => got.some((f) => f.url === url && f.findings.some((x) => x.value === LATER_IMEI)));
      },
      20_000,
      'the new IMEI flagged by both workers',
    );
  });

  it('a rule saved on the dashboard is applied by every worker, and the dashboard counts what each touched', async () => {
    const rules = { rules: [{ match: { type: 'imei' }, action: 'block' }] };
    const put = await fetch(`${app.uiUrl}api/rules`, asDashboard(app, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(rules) }));
    expect(put.status).toBe(200);
    const through = (name: string) => Promise.all([0, 1, 2, 3].map((i) => curl([...proxy(), '-o', '/dev/null', '-w', '%{http_code}', `${upstream.url}/${name}/${i}?imei=${IMEI}`])));
    // The workers hear of it just after the save.
    await waitFor(async () => (await through('ruling')).every((r) => r.stdout.toString() === '403'), 20_000, 'the rule applied by both workers');
    const before = (await api<{ touched: number[] }>('rules')).touched[0];
    const runs = await through('ruled');
    expect(runs.map((r) => r.stdout.toString())).toEqual(['403', '403', '403', '403']);
    expect(upstream.received.filter((r) => r.url.startsWith('/ruled/'))).toEqual([]);
    expect((await flows('/ruled/')).map((f) => f.action)).toEqual(['blocked', 'blocked', 'blocked', 'blocked']);
    // Each block was counted by its worker and its count sent on: the dashboard shows the sum.
    await waitFor(async () => (await api<{ touched: number[] }>('rules')).touched[0] >= before + 4, 10_000, 'the rule\'s count');
    const off = await fetch(`${app.uiUrl}api/rules`, asDashboard(app, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ rules: [] }) }));
    expect(off.status).toBe(200);
  });

  it('a WebSocket open on a worker that dies is recorded as cut by leakscope', async () => {
    const secure = tls.connect({ socket: await tunnel(app.proxyPort, `127.0.0.1:${upstream.port}`), host: '127.0.0.1', ca: app.caPem });
    const ws = new WebSocket(`wss://127.0.0.1:${upstream.port}/ws/live`, { createConnection: () => secure });
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    ws.send(JSON.stringify({ imei: IMEI }));
    const { id } = await waitFor(async () => (await flows('/ws/live')).find((f) => f.findings.length > 0), 10_000, 'the WebSocket flagged while open');
    // Which worker holds it is the primary's choice: each is killed in turn until the connection goes with one.
    let gone = false;
    for (const pid of await workers()) {
      process.kill(pid, 'SIGKILL');
      await replaced(pid);
      gone = await Promise.race([closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 500))]);
      if (gone) break;
    }
    expect(gone).toBe(true);
    const flow = await waitFor(async () => {
      const f = await api<Flow>(`flows/${id}`);
      return f.error === WORKER_DIED ? f : undefined;
    }, 10_000, 'the WebSocket\'s flow cut');
    expect(flow).toMatchObject({ kind: 'websocket', closedBy: 'leakscope' });
    expect(flow.findings).toEqual([expect.objectContaining({ type: 'imei', value: IMEI })]);
  });

  it('a worker that stops answering is taken as hung: ended, replaced, its exchanges recorded as interrupted', async () => {
    const before = await workers();
    const frozen = before[0];
    const ended: number[] = [];
    // Four connections, two a worker, each waiting on an upstream that never answers.
    for (let i = 0; i < 4; i++) void curl([...proxy(), `${upstream.url}/freeze/${i}`], 60_000).then(() => ended.push(i));
    await waitFor(() => upstream.received.filter((r) => r.url.startsWith('/freeze/')).length === 4, 20_000, 'four exchanges under way');
    // Frozen, as a worker stuck in a loop is: alive, holding its connections, answering nothing.
    process.kill(frozen, 'SIGSTOP');
    try {
      const after = await replaced(frozen, 'the frozen worker replaced');
      expect(after).toContain(before[1]);
      expect(() => process.kill(frozen, 0)).toThrow();
      const interrupted = await waitFor(async () => (await flows('/freeze/')).filter((f) => f.error === WORKER_DIED), 10_000, 'the frozen worker\'s exchanges');
      expect(interrupted.length).toBeGreaterThanOrEqual(1);
      // Its phones saw their connections cut; the other worker's still wait for their upstream.
      await waitFor(() => ended.length === interrupted.length, 10_000, 'the frozen worker\'s connections cut');
      const r = await curl([...proxy(), `${upstream.url}/thawed`]);
      expect(r.stdout.toString()).toBe('ok /thawed');
      expect(ended.length).toBeLessThan(4);
    } finally {
      try {
        process.kill(frozen, 'SIGKILL');
      } catch {
        // gone already, as it should be
      }
    }
  });

  it('a worker killed mid-exchange is replaced, its exchange recorded as interrupted, and the proxy keeps serving', async () => {
    const before = await workers();
    // Four connections, two a worker, each waiting on an upstream that never answers.
    const hanging = [0, 1, 2, 3].map((i) => curl([...proxy(), `${upstream.url}/hang/${i}`], 60_000));
    await waitFor(() => upstream.received.filter((r) => r.url.startsWith('/hang/')).length === 4, 20_000, 'four exchanges under way');
    process.kill(before[0], 'SIGKILL');
    const after = await replaced(before[0]);
    expect(after).toContain(before[1]);
    const interrupted = await waitFor(async () => (await flows('/hang/')).filter((f) => f.error === WORKER_DIED), 10_000, 'the dead worker\'s exchanges');
    expect(interrupted.length).toBeGreaterThanOrEqual(1);
    for (let i = 0; i < 4; i++) {
      const r = await curl([...proxy(), `${upstream.url}/after/${i}`]);
      expect(r.stdout.toString()).toBe(`ok /after/${i}`);
    }
    expect(await flows('/after/')).toHaveLength(4);
    // Those of the killed worker saw their connection cut; the others end when the proxy stops.
    await app.close();
    const ended = await Promise.all(hanging);
    expect(ended.filter((r) => r.code !== 0)).toHaveLength(4);
    const db = new Database(path.join(app.dataDir, 'flows.db'), { readonly: true });
    const rows = db.prepare("SELECT flow FROM flows WHERE url LIKE '%/hang/%'").all() as { flow: string }[];
    db.close();
    const errors = rows.map((r) => (JSON.parse(r.flow) as Flow).error);
    expect(errors).toHaveLength(4);
    for (const error of errors) expect(error).toMatch(/^interrupted/);
    expect(errors.filter((e) => e === WORKER_DIED)).toHaveLength(interrupted.length);
  });
});
