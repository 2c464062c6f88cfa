// The timeline's buckets, counted in SQL over a real SQLite store: flows per minute, flagged ones under their
// first finding's type, narrowed like GET /api/flows, wider buckets for long spans; and the matrix over a range.
import { afterAll, describe, expect, it } from 'vitest';
import { parseFilter } from '../../shared/filter';
import { FlowStore } from '../../proxy/store/flow-store';
import { bucketFor, MAX_TIMELINE_BUCKETS } from '../../proxy/store/timeline';
import { draftFlow } from '../helpers/flows';
import { tempDir } from '../helpers/leakscope';

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 11, 1, 14, 0, 0);
const store = new FlowStore(tempDir());
afterAll(() => store.close());

// 14:00: two plain flows and one with an IMEI then an e-mail; 14:01: nothing; 14:02: an e-mail alone, then a
// plain flow from another phone.
store.add(draftFlow({ start: T0 + 1_000, host: 'cdn.example.com' }));
store.add(draftFlow({ start: T0 + 2_000, host: 'cdn.example.com' }));
store.add(draftFlow({ start: T0 + 59_999, host: 'api.xiaomi.com', findings: [{ type: 'imei' }, { type: 'email', value: 'a@example.org' }] }));
store.add(draftFlow({ start: T0 + 2 * MINUTE, host: 'alog.umeng.com', findings: [{ type: 'email', value: 'a@example.org', encoding: 'md5' }] }));
store.add(draftFlow({ start: T0 + 2 * MINUTE + 30_000, host: 'cdn.example.com', client: '192.168.1.40' }));

describe('the timeline', () => {
  it('counts flows per minute, each flagged one once, under its first finding’s type', () => {
    const t = store.timeline({});
    expect(t.bucketMs).toBe(MINUTE);
    expect(t.lastId).toBe(5);
    expect(t.buckets).toEqual([
      { start: T0, flows: 3, flagged: 1, types: { imei: 1 } },
      { start: T0 + 2 * MINUTE, flows: 2, flagged: 1, types: { email: 1 } },
    ]);
  });

  it('is narrowed like the flows: filter, device, flagged, time range', () => {
    expect(store.timeline({ filter: parseFilter('~enc md5') }).buckets).toEqual([{ start: T0 + 2 * MINUTE, flows: 1, flagged: 1, types: { email: 1 } }]);
    expect(store.timeline({ device: '192.168.1.40' }).buckets).toEqual([{ start: T0 + 2 * MINUTE, flows: 1, flagged: 0, types: {} }]);
    expect(store.timeline({ flagged: true }).buckets.map((b) => b.flows)).toEqual([1, 1]);
    expect(store.timeline({ from: T0 + 2_000, to: T0 + 2 * MINUTE }).buckets).toEqual([{ start: T0, flows: 2, flagged: 1, types: { imei: 1 } }]);
    // lastId is the store's, whatever the filter: a client adds live flows above it.
    expect(store.timeline({ filter: parseFilter('~d nothing-here') })).toEqual({ bucketMs: MINUTE, buckets: [], lastId: 5 });
  });

  it('takes wider buckets when the flows span more than its width in minutes', () => {
    expect(bucketFor(T0, T0 + (MAX_TIMELINE_BUCKETS - 1) * MINUTE)).toBe(MINUTE);
    expect(bucketFor(T0, T0 + MAX_TIMELINE_BUCKETS * MINUTE)).toBe(2 * MINUTE);
    expect(bucketFor(T0, T0 + 7 * 3_600_000)).toBe(MINUTE);
    expect(bucketFor(T0, T0 + 3 * 86_400_000)).toBe(10 * MINUTE);
    expect(bucketFor(T0, T0 + 365 * 86_400_000)).toBe(86_400_000);
    expect(bucketFor(T0, T0 + 2000 * 86_400_000)).toBe(4 * 86_400_000);

    const wide = new FlowStore(tempDir());
    try {
      wide.add(draftFlow({ start: T0, host: 'a.example.com' }));
      wide.add(draftFlow({ start: T0 + 3 * 86_400_000, host: 'a.example.com', findings: [{ type: 'imei' }] }));
      const t = wide.timeline({});
      expect(t.bucketMs).toBe(10 * MINUTE);
      expect(t.buckets.map((b) => [b.start - T0, b.flows, b.flagged])).toEqual([
        [0, 1, 0],
        [3 * 86_400_000, 1, 1],
      ]);
    } finally {
      wide.close();
    }
  });

  it('narrows the flows themselves to [from, to)', () => {
    expect(store.summaries({ from: T0 + 2_000, to: T0 + 2 * MINUTE }).map((f) => f.id)).toEqual([3, 2]);
    expect(store.summaries({ from: T0 + 2 * MINUTE }).map((f) => f.id)).toEqual([5, 4]);
    expect([...store.flows({ to: T0 + 2_000 })].map((f) => f.id)).toEqual([1]);
  });
});

describe('the matrix over a time range', () => {
  it('counts the range and says when each pair was first seen at all, so a pair first seen in it is new', () => {
    const range = store.summary({ from: T0 + 2 * MINUTE });
    expect(range.map((r) => [r.host, r.type, r.count, r.firstSeen - T0, r.firstEver! - T0])).toEqual([
      ['alog.umeng.com', 'email', 1, 2 * MINUTE, 2 * MINUTE],
    ]);
    const wide = new FlowStore(tempDir());
    try {
      wide.add(draftFlow({ start: T0, host: 'api.xiaomi.com', findings: [{ type: 'imei' }] }));
      wide.add(draftFlow({ start: T0 + 10 * MINUTE, host: 'api.xiaomi.com', findings: [{ type: 'imei' }, { type: 'imsi', value: '460001234567890' }] }));
      wide.add(draftFlow({ start: T0 + 11 * MINUTE, host: 'api.xiaomi.com', findings: [{ type: 'imei' }] }));
      const rows = wide.summary({ from: T0 + 5 * MINUTE, to: T0 + 11 * MINUTE });
      expect(rows.map((r) => [r.type, r.count, r.firstSeen - T0, r.lastSeen - T0, r.firstEver! - T0])).toEqual([
        ['imei', 1, 10 * MINUTE, 10 * MINUTE, 0],
        ['imsi', 1, 10 * MINUTE, 10 * MINUTE, 10 * MINUTE],
      ]);
      expect(rows.map((r) => r.encodings)).toEqual([['plain'], ['plain']]);
      // Without a range, nothing changes: no firstEver.
      expect(wide.summary().map((r) => [r.type, r.count, r.firstEver])).toEqual([
        ['imei', 3, undefined],
        ['imsi', 1, undefined],
      ]);
    } finally {
      wide.close();
    }
  });
});

describe('encodings in the matrix', () => {
  it('lists every encoding a cell’s values were written in, one row per type, value, device and encoding', () => {
    const enc = new FlowStore(tempDir());
    try {
      // One request sends the IMEI twice (plain and md5), another as sha1+hex.
      enc.add(draftFlow({ start: T0, host: 'api.xiaomi.com', findings: [{ type: 'imei' }, { type: 'imei', encoding: 'md5', path: '$.h' }] }));
      enc.add(draftFlow({ start: T0 + MINUTE, host: 'api.xiaomi.com', findings: [{ type: 'imei', encoding: 'sha1+hex' }] }));
      const [row] = enc.summary();
      expect(row).toMatchObject({ type: 'imei', count: 2, encodings: ['md5', 'plain', 'sha1+hex'] });
      expect(enc.summary({ from: T0 + MINUTE })[0].encodings).toEqual(['sha1+hex']);
      expect(enc.summaries({ filter: parseFilter('~enc sha1') }).map((f) => f.id)).toEqual([2]);
      expect(enc.summaries({ filter: parseFilter('~enc md5') }).map((f) => f.id)).toEqual([1]);
      // The device list still counts one finding per value a request sent, not per encoding.
      expect(enc.devices()[0]).toMatchObject({ flows: 2, findings: 2 });
    } finally {
      enc.close();
    }
  });
});
