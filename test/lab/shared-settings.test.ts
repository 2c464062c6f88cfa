// A lab's identifiers and rules live in the shared store: two instances and a dashboard node over a real
// PostgreSQL (a throwaway cluster). An edit in any dashboard applies to every proxy; the store's values win at
// start, an empty store is seeded from an instance's file; PostgreSQL away keeps the last known values in force
// and an edit made meanwhile is written when it returns, the later edit winning.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboardNode, type DashboardNode } from '../../proxy/dashboard-node';
import type { Identifiers } from '../../shared/identifiers';
import type { RulesResponse } from '../../shared/api';
import type { FlowSummary } from '../../shared/types';
import { asDashboard, curl, startTestLeakscope, tempDir, waitFor, type TestLeakscope } from '../helpers/leakscope';
import { postgresForTests } from '../helpers/postgres';
import { startUpstream, type Upstream } from '../helpers/upstream';

const IMEI = '865123456789012';
const SEEDED_EMAIL = 'seed@lab.example.org';
const LATER_EMAIL = 'later@lab.example.org';

describe('identifiers and rules kept in the shared store', () => {
  const env = postgresForTests();
  let upstream: Upstream;
  let url: string;
  let node: DashboardNode;
  const apps: TestLeakscope[] = [];
  let bFile: string;

  beforeAll(async () => {
    upstream = await startUpstream();
    url = env.pg.createDatabase('lab_settings');
    // rack-a's file seeds the empty store; rack-b's own file differs and gives way to the store's.
    const aFile = path.join(tempDir(), 'identifiers.json');
    fs.writeFileSync(aFile, JSON.stringify({ devices: [{ name: 'Seed phone', email: [SEEDED_EMAIL] }] }));
    bFile = path.join(tempDir(), 'identifiers.json');
    fs.writeFileSync(bFile, JSON.stringify({ devices: [{ name: 'Own phone', email: ['own@lab.example.org'] }] }));
    apps.push(await startTestLeakscope({ upstreamCaPem: upstream.caPem, store: url, instance: 'rack-a', identifiersFile: aFile, session: 'settings' }));
    apps.push(await startTestLeakscope({ upstreamCaPem: upstream.caPem, store: url, instance: 'rack-b', identifiersFile: bFile, session: 'settings' }));
    node = await startDashboardNode({ store: url, uiHost: '127.0.0.1', uiPort: 0 });
  }, 120_000);
  afterAll(async () => {
    await node?.close();
    for (const app of apps) await app.close();
    await upstream?.close();
  });

  const through = async (app: TestLeakscope, query: string) => {
    const r = await curl(['-x', `http://127.0.0.1:${app.proxyPort}`, '--cacert', app.caFile, '-o', '/dev/null', '-w', '%{http_code}', `${upstream.url}/collect?${query}`]);
    expect(r.code).toBe(0);
    return Number(r.stdout.toString());
  };
  const flagged = async (app: TestLeakscope, query: string) => {
    const flows = (await (await fetch(`${app.uiUrl}api/flows?limit=50`)).json()) as FlowSummary[];
    const flow = flows.find((f) => f.url.endsWith(`?${query}`));
    expect(flow, query).toBeDefined();
    return flow!.findings.map((f) => f.type);
  };
  const identifiersOf = async (ui: { uiUrl: string }) => (await (await fetch(`${ui.uiUrl}api/identifiers`)).json()) as Identifiers;
  const emailsOf = async (ui: { uiUrl: string }) => (await identifiersOf(ui)).devices.flatMap((d) => d.email ?? []);
  const put = (ui: { uiUrl: string }, route: string, body: unknown) =>
    fetch(`${ui.uiUrl}api/${route}`, asDashboard(ui, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }));

  it('takes the store\'s at start: the first instance\'s file seeded it, the second\'s gave way (kept as .bak)', async () => {
    for (const ui of [...apps, node]) expect(await emailsOf(ui)).toEqual([SEEDED_EMAIL]);
    expect(JSON.parse(fs.readFileSync(bFile, 'utf8')).devices[0].name).toBe('Seed phone');
    expect(JSON.parse(fs.readFileSync(`${bFile}.bak`, 'utf8')).devices[0].name).toBe('Own phone');
    expect(env.pg.query('lab_settings', "SELECT instance, version FROM settings WHERE name = 'identifiers'").trim()).toBe('rack-a|1');
  });

  it('an identifiers edit in one instance makes the other flag a request it did not flag before', async () => {
    const [a, b] = apps;
    expect(await through(b, `imei=${IMEI}&n=before`)).toBe(200);
    expect(await flagged(b, `imei=${IMEI}&n=before`)).toEqual([]);
    const res = await put(a, 'identifiers', { devices: [{ name: 'Lab phone', imei: [IMEI], email: [SEEDED_EMAIL] }] });
    expect(res.status).toBe(200);
    await waitFor(async () => (await identifiersOf(b)).devices[0]?.imei?.includes(IMEI), 5000, 'rack-b to have the edit');
    expect(await through(b, `imei=${IMEI}&n=after`)).toBe(200);
    expect(await flagged(b, `imei=${IMEI}&n=after`)).toEqual(['imei']);
    expect((await identifiersOf(node)).devices[0].imei).toEqual([IMEI]);
  });

  it('the dashboard node edits the rules: every instance applies them', async () => {
    const res = await put(node, 'rules', { rules: [{ match: { type: 'imei' }, action: 'block' }] });
    expect(res.status).toBe(200);
    expect(((await res.json()) as RulesResponse).rules).toEqual([{ match: { type: 'imei' }, action: 'block' }]);
    for (const app of apps) {
      await waitFor(async () => ((await (await fetch(`${app.uiUrl}api/rules`)).json()) as RulesResponse).rules.length === 1, 5000, `${app.instance} to have the rule`);
      expect(await through(app, `imei=${IMEI}&blocked=${app.instance}`)).toBe(403);
      expect(await through(app, `plain=${app.instance}`)).toBe(200);
    }
    // and the node edits the identifiers too
    expect((await put(node, 'identifiers', { devices: [{ name: 'Lab phone', imei: [IMEI] }] })).status).toBe(200);
    for (const app of apps) await waitFor(async () => (await emailsOf(app)).length === 0, 5000, `${app.instance} to drop the email`);
    expect((await put(node, 'rules', { rules: [] })).status).toBe(200);
    for (const app of apps) await waitFor(async () => ((await (await fetch(`${app.uiUrl}api/rules`)).json()) as RulesResponse).rules.length === 0, 5000, 'the rule gone');
  });

  it('PostgreSQL stopped during an edit: the instance keeps serving with its edit, and the later edit wins everywhere once it returns', async () => {
    const [a, b] = apps;
    env.pg.pause();
    try {
      expect((await put(a, 'identifiers', { devices: [{ name: 'Lab phone', imei: [IMEI], email: [SEEDED_EMAIL] }] })).status).toBe(200);
      // applied at once where it was made, although the store is away
      expect(await through(a, `email=${SEEDED_EMAIL}&n=down`)).toBe(200);
      expect(await flagged(a, `email=${SEEDED_EMAIL}&n=down`)).toEqual(['email']);
      // the other instance keeps its last known values
      expect(await through(b, `imei=${IMEI}&n=down`)).toBe(200);
      expect(await flagged(b, `imei=${IMEI}&n=down`)).toEqual(['imei']);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect((await put(b, 'identifiers', { devices: [{ name: 'Lab phone', imei: [IMEI], email: [LATER_EMAIL] }] })).status).toBe(200);
    } finally {
      env.pg.resume();
    }
    for (const ui of [...apps, node]) await waitFor(async () => (await emailsOf(ui)).join() === LATER_EMAIL, 15_000, 'the later edit everywhere');
    expect(await through(a, `email=${LATER_EMAIL}&n=back`)).toBe(200);
    expect(await flagged(a, `email=${LATER_EMAIL}&n=back`)).toEqual(['email']);
    expect(env.pg.query('lab_settings', "SELECT instance, value::text LIKE '%later@%' FROM settings WHERE name = 'identifiers'").trim()).toBe('rack-b|t');
  }, 60_000);
});
