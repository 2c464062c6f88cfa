// A time range over the API: `from` and `to` narrow GET /api/flows, the matrix (/api/summary), the timeline and the
// HAR export alike, as ms since 1970 or ISO 8601; a time that is not one is a 400 that says so.
import { describe, expect, it } from 'vitest';
import type { SummaryResponse, TimelineResponse } from '../../shared/api';
import type { FlowSummary } from '../../shared/types';
import { draftFlow } from '../helpers/flows';
import { asDashboard, proxyInFrontOfUpstream } from '../helpers/leakscope';

const T0 = Date.UTC(2026, 11, 1, 14, 0, 0);

describe('a time range over the API', () => {
  const env = proxyInFrontOfUpstream();
  const get = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${env.app.uiUrl}api/${path}`, asDashboard(env.app));
    expect(res.status).toBe(200);
    return (await res.json()) as T;
  };

  it('narrows flows, summary, timeline and export to [from, to)', async () => {
    env.app.store.add(draftFlow({ start: T0, host: 'api.early.cn', findings: [{ type: 'imei' }] }));
    env.app.store.add(draftFlow({ start: T0 + 3_600_000, host: 'api.late.cn', findings: [{ type: 'imei' }] }));
    env.app.store.add(draftFlow({ start: T0 + 3_600_000 + 59_000, host: 'cdn.late.cn' }));
    const late = `from=${T0 + 3_600_000}&to=${T0 + 7_200_000}`;
    expect((await get<FlowSummary[]>(`flows?${late}`)).map((f) => f.host)).toEqual(['cdn.late.cn', 'api.late.cn']);
    expect((await get<FlowSummary[]>('flows?from=2026-12-01T14:00:00Z&to=2026-12-01T14:00:00.001Z')).map((f) => f.host)).toEqual(['api.early.cn']);
    expect((await get<SummaryResponse>(`summary?${late}`)).rows.map((r) => r.host)).toEqual(['api.late.cn']);
    expect((await get<SummaryResponse>('summary')).rows.map((r) => r.host)).toEqual(['api.early.cn', 'api.late.cn']);
    expect((await get<TimelineResponse>(`timeline?${late}`)).buckets).toEqual([{ start: T0 + 3_600_000, flows: 2, flagged: 1, types: { imei: 1 } }]);
    const har = await get<{ log: { entries: { request: { url: string } }[] } }>(`export.har?${late}&flagged=1`);
    expect(har.log.entries.map((e) => e.request.url)).toEqual(['https://api.late.cn/v1/report']);
  });

  it('refuses a time that is not one, naming the parameter', async () => {
    for (const path of ['flows?from=yesterday', 'summary?to=2026-13', 'timeline?from=1e9', 'export.har?to=soon']) {
      const res = await fetch(`${env.app.uiUrl}api/${path}`, asDashboard(env.app));
      expect(res.status, path).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(/^(from|to): a time in ms since 1970 or ISO 8601/);
    }
  });
});
