// A flows database written by the schema before capture sessions (test/fixtures/flows-schema-v0.sql, rows as that
// code wrote them) opens with today's store: its flows form one session, and nothing is lost.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { parseFilter } from '../../shared/filter';
import { summarize, type Flow } from '../../shared/types';
import { FlowStore } from '../../proxy/store/flow-store';
import { draftFlow } from '../helpers/flows';
import { tempDir } from '../helpers/leakscope';

const V0_SCHEMA = fs.readFileSync(path.resolve(__dirname, '../fixtures/flows-schema-v0.sql'), 'utf8');
const T0 = Date.UTC(2026, 10, 3, 9, 15, 0);

/** Writes `drafts` the way the store before sessions did: a row, its summary and flow JSON, its findings. */
function writeV0Database(dir: string, drafts: Omit<Flow, 'id'>[]): void {
  const db = new Database(path.join(dir, 'flows.db'));
  db.pragma('journal_mode = WAL');
  db.exec(V0_SCHEMA);
  const insert = db.prepare(
    `INSERT INTO flows (start, client, device, method, host, url, status, flagged, summary, flow) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const finding = db.prepare('INSERT INTO findings (flow_id, type, value, confidence, device, host, domain, country, org, time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
  drafts.forEach((draft, i) => {
    const flow = { id: i + 1, ...draft } as Flow;
    insert.run(flow.timings.start, flow.client, flow.device ?? null, flow.method, flow.host, flow.url, flow.status ?? null, flow.findings.length ? 1 : 0, JSON.stringify(summarize(flow)), JSON.stringify(flow));
    for (const f of flow.findings) finding.run(flow.id, f.type, f.value, f.confidence, f.device ?? null, flow.host, flow.destination?.domain ?? flow.host, flow.destination?.country ?? null, null, flow.timings.start);
  });
  db.prepare("INSERT INTO device_names (client, name) VALUES ('192.168.1.23', 'RedMi 1S')").run();
  expect(db.pragma('user_version', { simple: true })).toBe(0);
  db.close();
}

const stores: FlowStore[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});

function open(dir: string): FlowStore {
  const store = new FlowStore(dir);
  stores.push(store);
  return store;
}

describe('a database from before capture sessions', () => {
  const drafts = [
    draftFlow({ start: T0, host: 'api.push-example.cn', country: 'CN', findings: [{ type: 'imei' }, { type: 'imsi', value: '460001234567890', encoding: 'md5' }] }),
    draftFlow({ start: T0 + 60_000, host: 'cdn.example.com' }),
    draftFlow({ start: T0 + 120_000, host: 'sdk.push-example.cn', country: 'CN', findings: [{ type: 'phone_number', value: '+8613800138000', where: 'url', path: 'tel' }] }),
  ];

  it('keeps every flow, in one session named by its first flow and ending at its last', () => {
    const dir = tempDir();
    writeV0Database(dir, drafts);
    const store = open(dir);
    const sessions = store.sessions.list();
    expect(sessions).toHaveLength(1);
    expect(sessions[0]).toMatchObject({ name: '2026-11-03T09:15:00Z', started: T0, ended: T0 + 120_000, flows: 3, flagged: 2, current: false, markers: [] });
    const id = sessions[0].id;
    expect(store.count()).toBe(3);
    expect(store.summaries({}).map((f) => [f.host, f.session])).toEqual([
      ['sdk.push-example.cn', id],
      ['cdn.example.com', id],
      ['api.push-example.cn', id],
    ]);
    const first = store.get(1)!;
    expect(first.session).toBe(id);
    expect(first.findings).toEqual(drafts[0].findings);
    expect([...store.flows({ session: id })]).toHaveLength(3);
    expect(store.summary({ session: id }).map((r) => `${r.host} ${r.type} ${r.count}`)).toEqual([
      'api.push-example.cn imei 1',
      'api.push-example.cn imsi 1',
      'sdk.push-example.cn phone_number 1',
    ]);
    // Each finding row has its encoding back, from the flows' stored findings.
    expect(store.summary({ session: id }).map((r) => `${r.type} ${r.encodings.join()}`)).toEqual(['imei plain', 'imsi md5', 'phone_number plain']);
    expect(store.summaries({ filter: parseFilter('~enc md5') }).map((f) => f.id)).toEqual([1]);
    expect(store.deviceName('192.168.1.23')).toBe('RedMi 1S');
    // The timeline counts old flagged flows under their first finding's type.
    expect(store.timeline({}).buckets.map((b) => [b.start - T0, b.flows, b.types])).toEqual([
      [0, 1, { imei: 1 }],
      [60_000, 1, {}],
      [120_000, 1, { phone_number: 1 }],
    ]);
    // The diff's grouping reads the old flows' JSON: encodings and countries survive.
    expect(store.leaks({ session: id }).groups.map((g) => `${g.type} ${g.destination} ${g.encoding} ${g.countries.join()}`)).toEqual([
      'imei push-example.cn plain CN',
      'imsi push-example.cn md5 CN',
      'phone_number push-example.cn plain CN',
    ]);
  });

  it('migrates once, and flows after it go to the session the next start begins', () => {
    const dir = tempDir();
    writeV0Database(dir, drafts);
    open(dir).close();
    const store = open(dir);
    expect(store.sessions.list()).toHaveLength(1);
    const after = store.sessions.begin('after the update', T0 + 3_600_000);
    const flow = store.add(draftFlow({ start: T0 + 3_600_500, host: 'api.push-example.cn' }));
    expect(flow.session).toBe(after.id);
    const [old, now] = store.sessions.list();
    expect(old).toMatchObject({ flows: 3, ended: T0 + 120_000 });
    expect(now).toMatchObject({ name: 'after the update', flows: 1, current: true });
    store.close();
    const raw = new Database(path.join(dir, 'flows.db'), { readonly: true });
    expect(raw.pragma('user_version', { simple: true })).toBe(6);
    expect(raw.prepare('SELECT COUNT(*) AS n FROM flows WHERE session_id IS NULL').get()).toEqual({ n: 0 });
    raw.close();
  });

  it('indexes the old flows for full-text search and fills their country, so filters find them', () => {
    const dir = tempDir();
    writeV0Database(dir, [...drafts, draftFlow({ start: T0 + 180_000, host: 'log.example.com', body: '{"note":"zebrafinch"}' })]);
    const store = open(dir);
    expect(store.summaries({ filter: parseFilter('zebrafinch') }).map((f) => f.host)).toEqual(['log.example.com']);
    expect(store.summaries({ filter: parseFilter('~cc cn & ~t imsi') }).map((f) => f.host)).toEqual(['api.push-example.cn']);
  });

  it('an empty database from before sessions migrates to no session at all', () => {
    const dir = tempDir();
    writeV0Database(dir, []);
    expect(open(dir).sessions.list()).toEqual([]);
  });
});
