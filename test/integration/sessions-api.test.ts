// Sessions, markers, the diff and the report bundle over the dashboard API, against a real leakscope with a real
// proxy in front of an upstream. Every read route narrows to `?session=`.
import fs from 'node:fs';
import crypto from 'node:crypto';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DeviceInfo, SummaryResponse } from '../../shared/api';
import type { DiffResult, Marker, ReportWritten, SessionInfo } from '../../shared/audit';
import type { FlowSummary } from '../../shared/types';
import { curl, proxyInFrontOfUpstream, waitFor } from '../helpers/leakscope';

const IMSI = '460001234567890';

describe('sessions API', () => {
  const env = proxyInFrontOfUpstream({ session: 'first' });
  const url = (p: string) => `${env.app.uiUrl}api/${p}`;
  // As the dashboard's own pages send them (changes and downloads must come from its origin).
  const own = () => ({ origin: env.app.uiUrl.replace(/\/$/, '') });
  const get = async <T>(p: string): Promise<T> => (await fetch(url(p), { headers: own() })).json() as Promise<T>;
  const send = (method: string, p: string, body: unknown) => fetch(url(p), { method, headers: { 'content-type': 'application/json', ...own() }, body: JSON.stringify(body) });
  const proxied = (p: string) => curl(['-x', `http://127.0.0.1:${env.app.proxyPort}`, '--cacert', env.app.caFile, `${env.upstream.url}${p}`]);
  const flowCount = async (q: string) => (await get<FlowSummary[]>(`flows?${q}`)).length;

  it('records flows and markers in the current session, and a new session takes over', async () => {
    const [first] = await get<SessionInfo[]>('sessions');
    expect(first).toMatchObject({ name: 'first', current: true, flows: 0 });
    await proxied(`/track?imsi=${IMSI}`);
    const marker = await send('POST', 'markers', { text: 'opened Contacts' });
    expect(marker.status).toBe(201);
    expect((await marker.json()) as Marker).toMatchObject({ session: first.id, text: 'opened Contacts' });

    const started = await send('POST', 'sessions', { name: 'second' });
    expect(started.status).toBe(201);
    const second = (await started.json()) as SessionInfo;
    expect(second).toMatchObject({ name: 'second', current: true });
    await proxied('/clean');
    await proxied('/clean-again');
    await waitFor(async () => (await flowCount('session=second')) === 2, 5000, 'two flows in the second session');

    const sessions = await get<SessionInfo[]>('sessions');
    expect(sessions.map((s) => [s.name, s.flows, s.flagged, s.current, s.markers.map((m) => m.text)])).toEqual([
      ['first', 1, 1, false, ['opened Contacts']],
      ['second', 2, 0, true, []],
    ]);
    expect(sessions[0].ended).toBeGreaterThanOrEqual(sessions[0].started);
    // By name or by id, everywhere.
    expect(await flowCount('session=first')).toBe(1);
    expect(await flowCount(`session=${second.id}`)).toBe(2);
    expect((await get<SummaryResponse>('summary?session=second')).rows).toEqual([]);
    expect((await get<SummaryResponse>('summary?session=first')).rows.map((r) => r.type)).toEqual(['imsi']);
    expect((await get<DeviceInfo[]>('devices?session=second'))[0]).toMatchObject({ flows: 2, flagged: 0 });
    const har = (await get<{ log: { entries: unknown[] } }>('export.har?session=second')).log.entries;
    expect(har).toHaveLength(2);
  });

  it('diffs two sessions, the same computation as the CLI', async () => {
    const res = await fetch(url('diff?a=first&b=second'));
    expect(res.status).toBe(200);
    const d = (await res.json()) as DiffResult;
    expect(d.lost.map((i) => [i.type, i.destination, i.countA, i.countB])).toEqual([['imsi', '127.0.0.1', 1, 0]]);
    expect(d.gained).toEqual([]);
    expect((await fetch(url('diff?a=first'))).status).toBe(400);
  });

  it('renames and ends sessions; the next flow starts a new one named by its time', async () => {
    const [, second] = await get<SessionInfo[]>('sessions');
    expect((await send('PUT', `sessions/${second.id}`, { name: 'first' })).status).toBe(409);
    expect((await send('PUT', `sessions/${second.id}`, { name: '' })).status).toBe(400);
    expect((await send('PUT', 'sessions/999', { name: 'x' })).status).toBe(404);
    const renamed = await send('PUT', `sessions/${second.id}`, { name: 'after update' });
    expect(((await renamed.json()) as SessionInfo).name).toBe('after update');
    const ended = (await (await send('POST', `sessions/${second.id}/end`, {})).json()) as SessionInfo;
    expect(ended).toMatchObject({ current: false, ended: expect.any(Number) });
    await proxied('/after-end');
    const sessions = await waitFor(async () => {
      const list = await get<SessionInfo[]>('sessions');
      return list.length === 3 ? list : undefined;
    });
    expect(sessions[2]).toMatchObject({ current: true, flows: 1 });
    expect(sessions[2].name).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect((await send('POST', 'sessions', { name: 'first' })).status).toBe(409);
  });

  it('answers an unknown session with 404 and the sessions there are, and refuses cross-site and non-JSON changes', async () => {
    const res = await fetch(url('flows?session=nope'));
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: string }).error).toContain('session "nope": no such session (sessions: first, after update');
    expect((await fetch(url('export.har?session=nope'), { headers: own() })).status).toBe(404);
    expect((await fetch(url('markers'), { method: 'POST', headers: { 'content-type': 'text/plain', ...own() }, body: 'x' })).status).toBe(415);
    expect((await fetch(url('sessions'), { method: 'POST', headers: { 'content-type': 'application/json', origin: 'https://evil.example' }, body: '{}' })).status).toBe(403);
    expect((await send('POST', 'markers', { text: 'a\nb' })).status).toBe(400);
  });

  it('writes a report bundle into the data dir and serves its files, the page allowed no script', async () => {
    const res = await send('POST', 'reports', { session: 'first', against: 'after update' });
    expect(res.status).toBe(201);
    const written = (await res.json()) as ReportWritten;
    expect(written.files).toEqual(['report.html', 'report.pdf', 'evidence.har']);
    expect(written.dir).toBe(path.join(env.app.dataDir, 'reports', written.id));
    // Captured data: only to the dashboard's own pages.
    expect((await fetch(url(`reports/${written.id}/evidence.har`), { headers: { origin: 'https://evil.example' } })).status).toBe(403);
    const har = await fetch(url(`reports/${written.id}/evidence.har`), { headers: own() });
    const bytes = Buffer.from(await har.arrayBuffer());
    expect(crypto.createHash('sha256').update(bytes).digest('hex')).toBe(written.harSha256);
    expect(bytes.equals(fs.readFileSync(path.join(written.dir, 'evidence.har')))).toBe(true);
    const page = await fetch(url(`reports/${written.id}/report.html`), { headers: own() });
    expect(page.headers.get('content-security-policy')).toMatch(/^default-src 'none'/);
    expect(await page.text()).toContain(written.harSha256);
    const pdf = await fetch(url(`reports/${written.id}/report.pdf`), { headers: own() });
    expect(Buffer.from(await pdf.arrayBuffer()).subarray(0, 5).toString()).toBe('%PDF-');
    expect((await fetch(url(`reports/${written.id}/flows.db`), { headers: own() })).status).toBe(404);
    expect((await fetch(url(`reports/..%2F..%2Fetc/report.html`), { headers: own() })).status).toBe(404);
    expect((await send('POST', 'reports', { session: 'nope' })).status).toBe(404);
  }, 90_000);
});
