// Sessions and the diff over a real SQLite store: grouping by device, type, destination and encoding; new
// destinations; countries gained and lost; one device only.
import { afterEach, describe, expect, it } from 'vitest';
import { diffOf } from '../../proxy/audit/diff';
import { FlowStore } from '../../proxy/store/flow-store';
import { SessionError } from '../../proxy/store/session-log';
import { draftFlow } from '../helpers/flows';
import { tempDir } from '../helpers/leakscope';

const T0 = Date.UTC(2026, 11, 1, 10, 0, 0);
let store: FlowStore;
afterEach(() => store?.close());

describe('sessions', () => {
  it('puts each flow and marker in the current session, and starts one when none is open', () => {
    store = new FlowStore(tempDir());
    const a = store.sessions.begin('before', T0);
    store.add(draftFlow({ start: T0 + 1, host: 'a.example.cn' }));
    const marker = store.sessions.addMarker('  SIM inserted ', T0 + 2);
    expect(marker).toMatchObject({ session: a.id, text: 'SIM inserted', time: T0 + 2 });
    expect(store.sessions.end(a.id, T0 + 3)).toMatchObject({ ended: T0 + 3, current: false, flows: 1, markers: [marker] });
    // None open: the next flow starts a session named by its time.
    const flow = store.add(draftFlow({ start: T0 + 4, host: 'a.example.cn' }));
    const auto = store.sessions.info(flow.session!);
    expect(auto.name).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(auto.current).toBe(true);
    expect(store.sessions.rename(auto.id, 'after')).toMatchObject({ name: 'after' });
    expect(store.sessions.resolve('after')?.id).toBe(auto.id);
    expect(store.sessions.resolve(String(a.id))?.name).toBe('before');
    expect(() => store.sessions.rename(auto.id, 'before')).toThrow(SessionError);
    expect(() => store.sessions.addMarker('line\nbreak')).toThrow(/control characters/);
    expect(() => store.sessions.require('nope')).toThrow('session "nope": no such session (sessions: before, after)');
    // Beginning a name that exists continues that session.
    const again = store.sessions.begin('before', T0 + 10);
    expect(again).toMatchObject({ id: a.id, current: true });
    expect(again.ended).toBeUndefined();
    // The one it replaced ends (at its start or later: its time came from the clock, not from this test).
    expect(store.sessions.info(auto.id)).toMatchObject({ current: false, ended: auto.started });
    expect(store.summaries({ session: a.id })).toHaveLength(1);
  });
});

describe('diff', () => {
  function twoSessions(): { a: { id: number; name: string }; b: { id: number; name: string } } {
    store = new FlowStore(tempDir());
    const a = store.sessions.begin('before', T0);
    store.add(draftFlow({ start: T0 + 10, host: 'api.push-example.cn', country: 'CN', device: 'RedMi 1S', findings: [{ type: 'imei' }, { type: 'imei', encoding: 'md5' }] }));
    store.add(draftFlow({ start: T0 + 20, host: 'api.push-example.cn', country: 'CN', device: 'RedMi 1S', findings: [{ type: 'imei' }] }));
    store.add(draftFlow({ start: T0 + 30, host: 'stats.example.com', country: 'US', device: 'RedMi 1S', findings: [{ type: 'android_id', value: '9774d56d682e549c' }] }));
    store.add(draftFlow({ start: T0 + 40, host: 'api.push-example.cn', client: '192.168.1.50', findings: [{ type: 'email', value: 'x@example.org', device: 'Pixel' }] }));
    const b = store.sessions.begin('after', T0 + 1000);
    store.add(draftFlow({ start: T0 + 1010, host: 'api.push-example.cn', country: 'CN', device: 'RedMi 1S', findings: [{ type: 'imei', encoding: 'md5' }] }));
    store.add(draftFlow({ start: T0 + 1020, host: 'stats.example.com', country: 'US', device: 'RedMi 1S', findings: [{ type: 'android_id', value: '9774d56d682e549c' }] }));
    store.add(draftFlow({ start: T0 + 1030, host: 'ads.tracker-example.de', country: 'DE', device: 'RedMi 1S', findings: [{ type: 'advertising_id', value: '38400000-8cf0-11bd-b23e-10b96e40000d' }] }));
    store.add(draftFlow({ start: T0 + 1040, host: 'cdn.static-example.net', device: 'RedMi 1S' }));
    return { a, b };
  }

  it('lists gained, lost and kept per device, type, destination and encoding, with counts and first/last seen', () => {
    const { a, b } = twoSessions();
    const d = diffOf(store, a, b);
    const brief = (xs: typeof d.gained) => xs.map((i) => `${i.device} ${i.type} ${i.destination} ${i.encoding} ${i.countA}/${i.countB}`);
    expect(d.a).toBe('before');
    expect(d.b).toBe('after');
    expect(brief(d.gained)).toEqual(['RedMi 1S advertising_id tracker-example.de plain 0/1']);
    expect(brief(d.lost)).toEqual(['Pixel email push-example.cn plain 1/0', 'RedMi 1S imei push-example.cn plain 2/0']);
    expect(brief(d.kept)).toEqual(['RedMi 1S android_id example.com plain 1/1', 'RedMi 1S imei push-example.cn md5 1/1']);
    expect(d.lost[1]).toMatchObject({ firstSeenA: T0 + 10, lastSeenA: T0 + 20, firstSeenB: null, lastSeenB: null });
    expect(d.gained[0]).toMatchObject({ firstSeenA: null, firstSeenB: T0 + 1030, lastSeenB: T0 + 1030 });
    expect(d.destinations.new.map((x) => [x.destination, x.flows, x.flagged])).toEqual([
      ['static-example.net', 1, 0],
      ['tracker-example.de', 1, 1],
    ]);
    expect(d.destinations.gone).toEqual([]);
    expect(d.countries).toEqual({ gained: ['DE'], lost: [] });
    // And the other way round: the same pairs, swapped.
    const back = diffOf(store, b, a);
    expect(brief(back.lost)).toEqual(['RedMi 1S advertising_id tracker-example.de plain 1/0']);
    expect(back.countries).toEqual({ gained: [], lost: ['DE'] });
  });

  it('narrows to one device by name or client address', () => {
    const { a, b } = twoSessions();
    const pixel = diffOf(store, a, b, 'Pixel');
    expect(pixel.lost.map((i) => i.type)).toEqual(['email']);
    expect(pixel.gained).toEqual([]);
    expect(pixel.kept).toEqual([]);
    expect(pixel.device).toBe('Pixel');
    expect(diffOf(store, a, b, '192.168.1.50').lost).toEqual(pixel.lost);
  });
});
