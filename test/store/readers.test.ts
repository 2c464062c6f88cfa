// What the dashboard's API reads, over both stores: an instance's own SQLite store (sqliteReader) and a lab's
// PostgreSQL store (PgFlowReader, as a dashboard node reads it), holding the same flows. The same questions get
// the same answers, in the reader's own ids; where the engines differ by design, the test says so per engine.
import { describe, expect, it } from 'vitest';
import type { Flow } from '../../shared/types';
import { writeHar } from '../../proxy/har/export';
import { SessionError } from '../../proxy/store/session-log';
import { FILTER_FLOWS, T0 } from '../helpers/filter-cases';
import { draftFlow } from '../helpers/flows';
import { postgresForTests } from '../helpers/postgres';
import { all, capturedIn, ENGINES, type Engine } from '../helpers/store-engines';

const pg = postgresForTests();
const INSTANCE = 'rack-t';

/** The fields of a flow that say what was sent where, whichever store numbered it. */
const content = (f: Flow) => {
  const { id: _id, session: _session, ...rest } = f;
  return rest;
};

/** Each instance has its own current session; the shared store has none. */
const HAS_CURRENT_SESSION: Record<Engine, boolean> = { sqlite: true, postgres: false };

describe.each(ENGINES)('reading the %s store', (engine) => {
  // FILTER_FLOWS' four (RedMi ×3, Pixel), the first two in session "before", the last two in "after".
  const env = capturedIn(
    engine,
    pg,
    async ({ local, add }) => {
      local.sessions.begin('before', T0 - 1000);
      await add(FILTER_FLOWS[0]);
      await add(FILTER_FLOWS[1]);
      local.sessions.begin('after', T0 + 1500);
      await add(FILTER_FLOWS[2]);
      await add(FILTER_FLOWS[3]);
    },
    INSTANCE,
  );
  const ids = async (p: Promise<{ id: number }[]>) => (await p).map((f) => f.id);

  it('gets a flow by id, whole, with its instance; and no flow for an id it does not hold', async () => {
    const third = await env.reader.get(env.id(3));
    expect(third && content(third)).toEqual({ ...FILTER_FLOWS[2], instance: INSTANCE });
    expect(third?.id).toBe(env.id(3));
    expect(await env.reader.get(env.id(4) + 1000)).toBeUndefined();
    expect(await env.reader.count()).toBe(4);
    expect(await env.reader.instances()).toEqual([INSTANCE]);
  });

  it('pages the summaries: newest first, or oldest first after an id, within before and limit', async () => {
    expect(await ids(env.reader.summaries({}))).toEqual([4, 3, 2, 1].map(env.id));
    expect(await ids(env.reader.summaries({ limit: 2 }))).toEqual([4, 3].map(env.id));
    expect(await ids(env.reader.summaries({ after: env.id(1) }))).toEqual([2, 3, 4].map(env.id));
    expect(await ids(env.reader.summaries({ after: env.id(1), limit: 1 }))).toEqual([env.id(2)]);
    expect(await ids(env.reader.summaries({ after: env.id(1), before: env.id(4) }))).toEqual([2, 3].map(env.id));
    expect(await ids(env.reader.summaries({ after: env.id(4) }))).toEqual([]);
    expect(await ids(env.reader.summaries({ ids: [env.id(2), env.id(4)] }))).toEqual([4, 2].map(env.id));
  });

  it('narrows the summaries as the feed\'s controls do', async () => {
    expect(await ids(env.reader.summaries({ flagged: true }))).toEqual([4, 2, 1].map(env.id));
    expect(await ids(env.reader.summaries({ device: '192.168.1.40' }))).toEqual([env.id(4)]);
    expect(await ids(env.reader.summaries({ device: 'RedMi 1S' }))).toEqual([3, 2, 1].map(env.id));
    expect(await ids(env.reader.summaries({ type: 'phone_number' }))).toEqual([env.id(2)]);
    expect(await ids(env.reader.summaries({ confidence: 'known' }))).toEqual([4, 1].map(env.id));
    expect(await ids(env.reader.summaries({ host: 'XIAOMI' }))).toEqual([4, 1].map(env.id));
    expect(await ids(env.reader.summaries({ q: 'app_logs' }))).toEqual([env.id(2)]);
    const [summary] = await env.reader.summaries({ ids: [env.id(2)] });
    expect(summary).toMatchObject({ id: env.id(2), instance: INSTANCE, host: 'alog.umeng.com', findings: [{ type: 'phone_number', encoding: 'sha1+hex' }] });
  });

  it('narrows flows, summaries, the matrix and devices to an instance: its own, or one it does not hold', async () => {
    expect(await ids(env.reader.summaries({ instance: INSTANCE }))).toEqual([4, 3, 2, 1].map(env.id));
    expect(await env.reader.summaries({ instance: 'rack-z' })).toEqual([]);
    expect((await all(env.reader.flows({ instance: INSTANCE, flagged: true }))).map((f) => f.id)).toEqual([1, 2, 4].map(env.id));
    expect(await all(env.reader.flows({ instance: 'rack-z' }))).toEqual([]);
    expect((await env.reader.summary({ instance: INSTANCE })).length).toBe(3);
    expect(await env.reader.summary({ instance: 'rack-z' })).toEqual([]);
    expect((await env.reader.devices({ instance: INSTANCE })).length).toBe(2);
    expect(await env.reader.devices({ instance: 'rack-z' })).toEqual([]);
  });

  it('lists the sessions with their flows, and narrows everything to one', async () => {
    const sessions = await env.reader.sessions();
    expect(sessions.map((s) => [s.name, s.flows, s.flagged, s.firstFlow, s.lastFlow])).toEqual([
      ['before', 2, 2, T0, T0 + 1000],
      ['after', 2, 1, T0 + 2000, T0 + 3000],
    ]);
    expect(sessions.map((s) => s.current)).toEqual([false, HAS_CURRENT_SESSION[engine]]);
    const after = await env.reader.session('after');
    expect(after).toEqual({ id: sessions[1].id, name: 'after' });
    expect(await env.reader.session(String(sessions[0].id))).toEqual({ id: sessions[0].id, name: 'before' });
    await expect(env.reader.session('nope')).rejects.toThrow(SessionError);
    await expect(env.reader.session('nope')).rejects.toThrow(/"before", "after"|before, after/);
    expect(await ids(env.reader.summaries({ session: after.id }))).toEqual([4, 3].map(env.id));
    expect((await env.reader.get(env.id(4)))?.session).toBe(after.id);
    expect((await env.reader.summary({ session: after.id })).map((r) => [r.host, r.type, r.count])).toEqual([['api.xiaomi.com', 'imei', 1]]);
    expect((await env.reader.devices({ session: after.id })).map((d) => [d.client, d.flows, d.flagged, d.findings])).toEqual([
      ['192.168.1.40', 1, 1, 1],
      ['192.168.1.23', 1, 0, 0],
    ]);
  });

  it('lists the matrix: identifier type × destination, per device, ordered by destination', async () => {
    expect((await env.reader.summary({})).map((r) => [r.domain, r.host, r.type, r.device, r.count, r.country, r.org, r.encodings])).toEqual([
      ['umeng.com', 'alog.umeng.com', 'phone_number', 'RedMi 1S', 1, 'CN', 'Alibaba', ['sha1+hex']],
      ['xiaomi.com', 'api.xiaomi.com', 'imei', 'Pixel 7', 1, 'CN', undefined, ['plain']],
      ['xiaomi.com', 'tracking.xiaomi.com', 'imei', 'RedMi 1S', 1, 'CN', 'Xiaomi Communications', ['md5']],
    ]);
  });

  it('lists the devices, most recently seen first, each with its counts', async () => {
    const devices = await env.reader.devices({});
    expect(devices.map((d) => [d.client, d.flows, d.flagged, d.findings, d.firstSeen, d.lastSeen])).toEqual([
      ['192.168.1.40', 1, 1, 1, T0 + 3000, T0 + 3000],
      ['192.168.1.23', 3, 2, 2, T0, T0 + 2000],
    ]);
    // By design: a device of the shared store is behind an instance and named by its flows (renamed in that
    // instance's dashboard); an instance's own devices carry no instance, and only the names its tester gave.
    if (engine === 'postgres') expect(devices.map((d) => [d.instance, d.name])).toEqual([[INSTANCE, 'Pixel 7'], [INSTANCE, 'RedMi 1S']]);
    else expect(devices.map((d) => [d.instance, d.name])).toEqual([[undefined, undefined], [undefined, undefined]]);
  });

  it('exports the same HAR', async () => {
    let har = '';
    writeHar(await all(env.reader.flows({ flagged: true })), (chunk) => (har += chunk));
    const entries = (JSON.parse(har) as { log: { entries: { request: { url: string }; _leakscope: { instance?: string; findings: { type: string }[] } }[] } }).log.entries;
    expect(entries.map((e) => [e.request.url, e._leakscope.instance, e._leakscope.findings.map((f) => f.type)])).toEqual([
      [FILTER_FLOWS[0].url, INSTANCE, ['imei']],
      [FILTER_FLOWS[1].url, INSTANCE, ['phone_number']],
      [FILTER_FLOWS[3].url, INSTANCE, ['imei']],
    ]);
  });
});

describe.each(ENGINES)('flows of the %s store, many', (engine) => {
  const N = 450;
  // committed in one turn: one transaction in each store, in the same order
  const env = capturedIn(engine, pg, async ({ add }) => {
    await Promise.all(Array.from({ length: N }, (_, i) => add(draftFlow({ start: T0 + i, host: `h${i}.example.com`, findings: i % 3 === 0 ? [{ type: 'imei' }] : [] }))));
  });

  it('are all exported, oldest first, in pages, after an id', async () => {
    const every = await all(env.reader.flows({}));
    expect(every.map((f) => f.id)).toEqual(Array.from({ length: N }, (_, i) => env.id(i + 1)));
    expect(every.map((f) => f.host)).toEqual(Array.from({ length: N }, (_, i) => `h${i}.example.com`));
    expect((await all(env.reader.flows({ after: env.id(400) }))).map((f) => f.host)).toEqual(Array.from({ length: 50 }, (_, i) => `h${400 + i}.example.com`));
    expect((await all(env.reader.flows({ flagged: true }))).length).toBe(N / 3);
    expect((await env.reader.summaries({ limit: 10_000 })).length).toBe(N);
  });
});
