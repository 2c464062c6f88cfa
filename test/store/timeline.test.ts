// The timeline's buckets, counted in SQL: flows per minute, flagged ones under their first finding's type,
// narrowed like GET /api/flows, wider buckets for long spans; flows, the matrix and devices over a time range; and
// the encodings in the matrix. Over both stores where each answers (a lab's PostgreSQL store has no timeline: a
// dashboard node answers GET /api/timeline 501).
import { describe, expect, it } from 'vitest';
import type { TimelineResponse } from '../../shared/api';
import { parseFilter } from '../../shared/filter';
import type { FlowQuery } from '../../proxy/store/flow-query';
import { bucketFor, MAX_TIMELINE_BUCKETS } from '../../proxy/store/timeline';
import { draftFlow } from '../helpers/flows';
import { postgresForTests } from '../helpers/postgres';
import { all, capturedIn, ENGINES, type Engine, type EngineFlows } from '../helpers/store-engines';

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 11, 1, 14, 0, 0);
const pg = postgresForTests();

// 14:00: two plain flows and one with an IMEI then an e-mail; 14:01: nothing; 14:02: an e-mail alone, then a
// plain flow from another phone.
const FLOWS = [
  draftFlow({ start: T0 + 1_000, host: 'cdn.example.com' }),
  draftFlow({ start: T0 + 2_000, host: 'cdn.example.com' }),
  draftFlow({ start: T0 + 59_999, host: 'api.xiaomi.com', findings: [{ type: 'imei' }, { type: 'email', value: 'a@example.org' }] }),
  draftFlow({ start: T0 + 2 * MINUTE, host: 'alog.umeng.com', findings: [{ type: 'email', value: 'a@example.org', encoding: 'md5' }] }),
  draftFlow({ start: T0 + 2 * MINUTE + 30_000, host: 'cdn.example.com', client: '192.168.1.40' }),
];
/** The store's timeline; only the SQLite store counts one. */
function timeline(env: EngineFlows, q: FlowQuery): Promise<TimelineResponse> {
  if (!env.reader.timeline) throw new Error(`the ${env.engine} store has no timeline`);
  return env.reader.timeline(q);
}

const COUNTS_TIMELINE: Record<Engine, boolean> = { sqlite: true, postgres: false };

describe.each(ENGINES)('the timeline over the %s store', (engine) => {
  const env = capturedIn(engine, pg, async ({ add }) => void (await Promise.all(FLOWS.map(add))));

  it.runIf(!COUNTS_TIMELINE[engine])('is not counted: a dashboard node answers 501', () => {
    expect(env.reader.timeline).toBeUndefined();
  });

  it.runIf(COUNTS_TIMELINE[engine])('counts flows per minute, each flagged one once, under its first finding’s type', async () => {
    const t = await timeline(env, {});
    expect(t.bucketMs).toBe(MINUTE);
    expect(t.lastId).toBe(env.id(5));
    expect(t.buckets).toEqual([
      { start: T0, flows: 3, flagged: 1, types: { imei: 1 } },
      { start: T0 + 2 * MINUTE, flows: 2, flagged: 1, types: { email: 1 } },
    ]);
  });

  it.runIf(COUNTS_TIMELINE[engine])('is narrowed like the flows: filter, device, flagged, time range', async () => {
    expect((await timeline(env, { filter: parseFilter('~enc md5') })).buckets).toEqual([{ start: T0 + 2 * MINUTE, flows: 1, flagged: 1, types: { email: 1 } }]);
    expect((await timeline(env, { device: '192.168.1.40' })).buckets).toEqual([{ start: T0 + 2 * MINUTE, flows: 1, flagged: 0, types: {} }]);
    expect((await timeline(env, { flagged: true })).buckets.map((b) => b.flows)).toEqual([1, 1]);
    expect((await timeline(env, { from: T0 + 2_000, to: T0 + 2 * MINUTE })).buckets).toEqual([{ start: T0, flows: 2, flagged: 1, types: { imei: 1 } }]);
    // lastId is the store's, whatever the filter: a client adds live flows above it.
    expect(await timeline(env, { filter: parseFilter('~d nothing-here') })).toEqual({ bucketMs: MINUTE, buckets: [], lastId: env.id(5) });
  });

  it('narrows the flows themselves to [from, to)', async () => {
    expect((await env.reader.summaries({ from: T0 + 2_000, to: T0 + 2 * MINUTE })).map((f) => f.id)).toEqual([env.id(3), env.id(2)]);
    expect((await env.reader.summaries({ from: T0 + 2 * MINUTE })).map((f) => f.id)).toEqual([env.id(5), env.id(4)]);
    expect((await all(env.reader.flows({ to: T0 + 2_000 }))).map((f) => f.id)).toEqual([env.id(1)]);
  });

  it('counts the matrix over a range, saying when each pair was first seen at all', async () => {
    const range = await env.reader.summary({ from: T0 + 2 * MINUTE });
    expect(range.map((r) => [r.host, r.type, r.count, r.firstSeen - T0, r.firstEver! - T0])).toEqual([['alog.umeng.com', 'email', 1, 2 * MINUTE, 2 * MINUTE]]);
  });
});

describe.each(ENGINES)('wide spans over the %s store', (engine) => {
  const env = capturedIn(engine, pg, async ({ add }) => {
    await add(draftFlow({ start: T0, host: 'a.example.com' }));
    await add(draftFlow({ start: T0 + 3 * 86_400_000, host: 'a.example.com', findings: [{ type: 'imei' }] }));
  });

  it('takes wider buckets when the flows span more than its width in minutes', async () => {
    expect(bucketFor(T0, T0 + (MAX_TIMELINE_BUCKETS - 1) * MINUTE)).toBe(MINUTE);
    expect(bucketFor(T0, T0 + MAX_TIMELINE_BUCKETS * MINUTE)).toBe(2 * MINUTE);
    expect(bucketFor(T0, T0 + 7 * 3_600_000)).toBe(MINUTE);
    expect(bucketFor(T0, T0 + 3 * 86_400_000)).toBe(10 * MINUTE);
    expect(bucketFor(T0, T0 + 365 * 86_400_000)).toBe(86_400_000);
    expect(bucketFor(T0, T0 + 2000 * 86_400_000)).toBe(4 * 86_400_000);
    if (!COUNTS_TIMELINE[engine]) return void expect(env.reader.timeline).toBeUndefined();
    const t = await timeline(env, {});
    expect(t.bucketMs).toBe(10 * MINUTE);
    expect(t.buckets.map((b) => [b.start - T0, b.flows, b.flagged])).toEqual([
      [0, 1, 0],
      [3 * 86_400_000, 1, 1],
    ]);
  });
});

describe.each(ENGINES)('the matrix over a time range, %s store', (engine) => {
  const env = capturedIn(engine, pg, async ({ add }) => {
    await add(draftFlow({ start: T0, host: 'api.xiaomi.com', findings: [{ type: 'imei' }] }));
    await add(draftFlow({ start: T0 + 10 * MINUTE, host: 'api.xiaomi.com', findings: [{ type: 'imei' }, { type: 'imsi', value: '460001234567890' }] }));
    await add(draftFlow({ start: T0 + 11 * MINUTE, host: 'api.xiaomi.com', findings: [{ type: 'imei' }] }));
  });

  it('counts the range and says when each pair was first seen at all, so a pair first seen in it is new', async () => {
    const rows = await env.reader.summary({ from: T0 + 5 * MINUTE, to: T0 + 11 * MINUTE });
    expect(rows.map((r) => [r.type, r.count, r.firstSeen - T0, r.lastSeen - T0, r.firstEver! - T0])).toEqual([
      ['imei', 1, 10 * MINUTE, 10 * MINUTE, 0],
      ['imsi', 1, 10 * MINUTE, 10 * MINUTE, 10 * MINUTE],
    ]);
    expect(rows.map((r) => r.encodings)).toEqual([['plain'], ['plain']]);
    // Without a range, nothing changes: no firstEver.
    expect((await env.reader.summary({})).map((r) => [r.type, r.count, r.firstEver])).toEqual([
      ['imei', 3, undefined],
      ['imsi', 1, undefined],
    ]);
  });
});

describe.each(ENGINES)('encodings in the matrix, %s store', (engine) => {
  const env = capturedIn(engine, pg, async ({ add }) => {
    // One request sends the IMEI twice (plain and md5), another as sha1+hex.
    await add(draftFlow({ start: T0, host: 'api.xiaomi.com', findings: [{ type: 'imei' }, { type: 'imei', encoding: 'md5', path: '$.h' }] }));
    await add(draftFlow({ start: T0 + MINUTE, host: 'api.xiaomi.com', findings: [{ type: 'imei', encoding: 'sha1+hex' }] }));
  });

  it('lists every encoding a cell’s values were written in, one row per type, value, device and encoding', async () => {
    const [row] = await env.reader.summary({});
    expect(row).toMatchObject({ type: 'imei', count: 2, encodings: ['md5', 'plain', 'sha1+hex'] });
    expect((await env.reader.summary({ from: T0 + MINUTE }))[0].encodings).toEqual(['sha1+hex']);
    expect((await env.reader.summaries({ filter: parseFilter('~enc sha1') })).map((f) => f.id)).toEqual([env.id(2)]);
    expect((await env.reader.summaries({ filter: parseFilter('~enc md5') })).map((f) => f.id)).toEqual([env.id(1)]);
    // The device list still counts one finding per value a request sent, not per encoding.
    expect((await env.reader.devices({}))[0]).toMatchObject({ flows: 2, findings: 2 });
  });
});
