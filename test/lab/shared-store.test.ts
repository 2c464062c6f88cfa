// A lab: two leakscope instances writing to one real PostgreSQL (a throwaway cluster), and the start-up error
// when the database cannot be reached.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { curl, startTestLeakscope, tempDir, waitFor, type TestLeakscope } from '../helpers/leakscope';
import { postgresForTests } from '../helpers/postgres';
import { FlowStore } from '../../proxy/store/flow-store';
import { PgFlowReader } from '../../proxy/store/pg-reader';
import { PgFlowStore } from '../../proxy/store/pg-store';
import { draftFlow } from '../helpers/flows';
import type { Flow } from '../../shared/types';
import { startUpstream, type Upstream } from '../helpers/upstream';

const BIN = path.resolve(__dirname, '../../bin/leakscope.js');
const IMEI = '865123456789012';

describe('two instances, one PostgreSQL store', () => {
  const env = postgresForTests();
  let upstream: Upstream;
  let url: string;
  const apps: TestLeakscope[] = [];

  beforeAll(async () => {
    upstream = await startUpstream();
    url = env.pg.createDatabase('lab_two');
    const identifiers = path.join(tempDir(), 'identifiers.json');
    fs.writeFileSync(identifiers, JSON.stringify({ devices: [{ name: 'Lab phone', imei: [IMEI] }] }));
    // Started together: both run the migrations, which must apply once.
    apps.push(
      ...(await Promise.all(
        ['rack-a', 'rack-b'].map((instance) => startTestLeakscope({ upstreamCaPem: upstream.caPem, store: url, instance, identifiersFile: identifiers, session: 'lab run' })),
      )),
    );
  }, 120_000);
  afterAll(async () => {
    for (const app of apps) await app.close();
    await upstream?.close();
  });

  const through = (app: TestLeakscope, query: string) =>
    curl(['-x', `http://127.0.0.1:${app.proxyPort}`, '--cacert', app.caFile, `${upstream.url}/collect?${query}`]);

  it('stores flagged flows from both, each with its instance, in one session, with their findings', async () => {
    for (const [i, app] of apps.entries()) {
      expect((await through(app, `imei=${IMEI}&n=${i}`)).code).toBe(0);
      expect((await through(app, `plain=${i}`)).code).toBe(0);
    }
    const rows = env.pg.query('lab_two', `SELECT instance, flagged, url FROM flows ORDER BY instance, url`).trim().split('\n');
    expect(rows).toEqual([
      `rack-a|t|${upstream.url}/collect?imei=${IMEI}&n=0`,
      `rack-a|f|${upstream.url}/collect?plain=0`,
      `rack-b|t|${upstream.url}/collect?imei=${IMEI}&n=1`,
      `rack-b|f|${upstream.url}/collect?plain=1`,
    ]);
    expect(env.pg.query('lab_two', `SELECT f.instance, x.type, x.value, x.device FROM findings x JOIN flows f ON f.id = x.flow_id ORDER BY 1`).trim()).toBe(
      `rack-a|imei|${IMEI}|Lab phone\nrack-b|imei|${IMEI}|Lab phone`,
    );
    expect(env.pg.query('lab_two', `SELECT DISTINCT s.name FROM flows f JOIN sessions s ON s.id = f.session_id`).trim()).toBe('lab run');
    // The stored summary and flow carry the instance and the shared id, as the API and HAR export show them.
    const summaries = env.pg.query('lab_two', `SELECT id = (summary->>'id')::bigint AND id = (flow->>'id')::bigint, summary->>'instance' FROM flows WHERE flagged ORDER BY 2`);
    expect(summaries.trim()).toBe('t|rack-a\nt|rack-b');
  });

  it('shows the instance in each instance\'s own dashboard, and copies its markers to the shared session', async () => {
    const [a] = apps;
    const flows = (await (await fetch(`${a.uiUrl}api/flows?flagged=1`)).json()) as { instance?: string }[];
    expect(flows.map((f) => f.instance)).toEqual(['rack-a']);
    const res = await fetch(`${a.uiUrl}api/markers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: new URL(a.uiUrl).origin },
      body: JSON.stringify({ text: 'opened the app' }),
    });
    expect(res.status).toBe(201);
    await waitFor(() => env.pg.query('lab_two', `SELECT m.instance, m.text, s.name FROM markers m JOIN sessions s ON s.id = m.session_id`).trim() === 'rack-a|opened the app|lab run', 5000, 'the marker in PostgreSQL');
  });

  it('rewrites an open flow (a tunnel that found more, then closed) under its shared id', async () => {
    const store = await PgFlowStore.open(url, 'rack-c');
    try {
      const open = { id: 7, instance: 'rack-c', kind: 'tcp', client: '127.0.0.1', method: 'TCP', url: 'tcp://127.0.0.1:5222', host: '127.0.0.1', timings: { start: Date.now() }, findings: [], tags: [] } as unknown as Flow;
      await store.commit(open, 'lab run');
      const found: Flow = { ...open, closedBy: 'client', findings: [{ type: 'imei', value: IMEI, where: 'tcp', path: '', encoding: 'plain', confidence: 'known' }] };
      await store.update(found);
      const rows = env.pg.query('lab_two', `SELECT f.local_id, f.flagged, f.flow->>'closedBy', f.flow->>'id' = f.id::text, (SELECT string_agg(type, ',') FROM findings WHERE flow_id = f.id) FROM flows f WHERE instance = 'rack-c'`);
      expect(rows.trim()).toBe('7|t|client|t|imei');
    } finally {
      await store.close();
    }
  });

  it('writes, at start, the flows an earlier run left waiting for the shared store (PostgreSQL away, or a kill)', async () => {
    const dataDir = tempDir();
    const left = new FlowStore(dataDir, { outbox: true });
    left.add({ ...draftFlow({ start: Date.now(), host: 'left.example.net' }), instance: 'rack-o' });
    left.add({ ...draftFlow({ start: Date.now(), host: 'left.example.net', findings: [{ type: 'imei', value: IMEI }] }), instance: 'rack-o' });
    expect(left.outbox!.waiting(10)).toHaveLength(2);
    left.close();
    const app = await startTestLeakscope({ dataDir, store: url, instance: 'rack-o' });
    try {
      await waitFor(() => env.pg.query('lab_two', "SELECT count(*) FROM flows WHERE instance = 'rack-o' AND host = 'left.example.net'").trim() === '2', 10_000, 'the two flows in PostgreSQL');
      await waitFor(() => app.store.outbox!.waiting(10).length === 0 && app.store.outbox!.size() === 0, 5000, 'an empty outbox');
      expect(env.pg.query('lab_two', "SELECT count(*) FROM findings x JOIN flows f ON f.id = x.flow_id WHERE f.instance = 'rack-o'").trim()).toBe('1');
    } finally {
      await app.close();
    }
  });

  it('gives the finding rows of flows stored before migration 4 one row per encoding, as the matrix shows them', async () => {
    const url = env.pg.createDatabase('lab_encodings');
    const store = await PgFlowStore.open(url, 'rack-e');
    const findings = [{ type: 'imei' as const }, { type: 'imei' as const, encoding: 'md5', path: '$.h' }, { type: 'imsi' as const, value: '460001234567890' }];
    await store.commit({ ...draftFlow({ start: Date.now(), host: 'api.xiaomi.com', findings }), id: 1 }, 'encodings');
    await store.close();
    // as migration 3 left them: one row per type, value and device, and no encoding
    env.pg.query('lab_encodings', "DELETE FROM findings WHERE encoding = 'md5'; ALTER TABLE findings DROP COLUMN encoding; DELETE FROM leakscope_migrations WHERE version = 4");
    const reader = await PgFlowReader.open(url);
    try {
      expect((await reader.summary({})).map((r) => [r.type, r.count, r.encodings])).toEqual([
        ['imei', 1, ['md5', 'plain']],
        ['imsi', 1, ['plain']],
      ]);
      expect((await reader.devices({})).map((d) => d.findings)).toEqual([2]);
    } finally {
      await reader.close();
    }
  });

  it('keeps one migration record per schema version although both instances migrated', () => {
    expect(env.pg.query('lab_two', 'SELECT version FROM leakscope_migrations ORDER BY 1').trim()).toBe('1\n2\n3\n4');
  });
});

describe('start --store and dashboard --store with a database they cannot reach', () => {
  it('exits 2 with one line naming the store, without its password', async () => {
    const r = await new Promise<{ code: number; stderr: string }>((resolve) => {
      // port 1 on loopback: nothing listens there
      const args = [BIN, 'start', '--store', 'postgres://lab:secret@127.0.0.1:1/lab', '--data-dir', tempDir(), '--proxy-port', '0', '--ui-port', '0'];
      execFile(process.execPath, args, { env: { ...process.env, LEAKSCOPE_LOG: 'silent' }, timeout: 60_000 }, (err, _out, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stderr }),
      );
    });
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/--store postgres:\/\/lab:\*\*\*@127\.0\.0\.1:1\/lab: cannot use the database \(.*ECONNREFUSED/);
    expect(r.stderr).not.toContain('secret');
  }, 60_000);

  it('dashboard --store: the same one line and exit 2; without --store, exit 2 saying what it needs', async () => {
    const run = (args: string[]) =>
      new Promise<{ code: number; stderr: string }>((resolve) => {
        execFile(process.execPath, [BIN, 'dashboard', '--ui-port', '0', ...args], { env: { ...process.env, LEAKSCOPE_LOG: 'silent' }, timeout: 60_000 }, (err, _out, stderr) =>
          resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stderr }),
        );
      });
    const [away, none] = await Promise.all([run(['--store', 'postgres://lab:secret@127.0.0.1:1/lab']), run([])]);
    expect(away.code).toBe(2);
    expect(away.stderr.trim().split('\n')).toHaveLength(1);
    expect(away.stderr).toMatch(/--store postgres:\/\/lab:\*\*\*@127\.0\.0\.1:1\/lab: cannot use the database \(.*ECONNREFUSED/);
    expect(none).toEqual({ code: 2, stderr: 'leakscope: --store: the shared store to read, postgres://USER@HOST/DB\n' });
  }, 60_000);
});
