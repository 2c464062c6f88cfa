// Block rules end to end: a blocked request never reaches the upstream, the phone gets a 403, the flow is
// recorded as blocked with its findings; rules edited through the API apply to the next request.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RulesResponse } from '../../shared/api';
import type { Flow, FlowSummary } from '../../shared/types';
import { asDashboard, curl, startTestLeakscope, tempDir, waitFor, type TestLeakscope } from '../helpers/leakscope';
import { startUpstream, type Upstream } from '../helpers/upstream';

const IMEI = '865123456789012';
const PHONE = '+86 138 0013 8000';

describe('block rules', () => {
  let upstream: Upstream;
  let app: TestLeakscope;
  let rulesFile: string;

  beforeAll(async () => {
    upstream = await startUpstream();
    const dir = tempDir();
    const identifiersFile = path.join(dir, 'ids.json');
    fs.writeFileSync(identifiersFile, JSON.stringify({ devices: [{ name: 'RedMi 1S', imei: [IMEI], phone_number: [PHONE] }] }));
    rulesFile = path.join(dir, 'rules.json');
    fs.writeFileSync(rulesFile, JSON.stringify({ rules: [{ match: { type: 'imei', host: '*.0.0.1' }, action: 'block' }] }));
    app = await startTestLeakscope({ upstreamCaPem: upstream.caPem, identifiersFile, rulesFile });
  });

  afterAll(async () => {
    await app?.close();
    await upstream?.close();
  });

  const proxy = () => ['-x', `http://127.0.0.1:${app.proxyPort}`, '--cacert', app.caFile];
  const api = async <T>(p: string, init?: RequestInit): Promise<T> => {
    const res = await fetch(`${app.uiUrl}${p.replace(/^\//, '')}`, asDashboard(app, init));
    return (await res.json()) as T;
  };
  const flowFor = async (needle: string) => {
    const summary = await waitFor(async () => (await api<FlowSummary[]>('/api/flows?limit=500')).find((f) => f.url.includes(needle)), 5000, needle);
    return api<Flow>(`/api/flows/${summary.id}`);
  };
  const arrived = (needle: string) => upstream.received.filter((r) => r.url.includes(needle));

  it('answers 403 to the phone, sends nothing upstream, records the flow as blocked with its findings', async () => {
    const r = await curl([...proxy(), '-w', '\n%{http_code}', '-H', 'content-type: application/json', '--data', JSON.stringify({ imei: IMEI }), `${upstream.url}/blocked-1`]);
    const [text, code] = r.stdout.toString().trim().split(/\n+/);
    expect(code).toBe('403');
    expect(text).toMatch(/^leakscope: blocked by a rule \(imei/);
    const flow = await flowFor('/blocked-1');
    expect(flow).toMatchObject({ action: 'blocked', status: 403 });
    expect(flow.findings).toContainEqual(expect.objectContaining({ type: 'imei', value: IMEI, confidence: 'known' }));
    expect(arrived('/blocked-1')).toEqual([]);
  });

  it('lets a request that no block rule matches through', async () => {
    await curl([...proxy(), '-G', '--data-urlencode', `phone=${PHONE}`, `${upstream.url}/phone-1`]);
    const flow = await flowFor('/phone-1');
    expect(flow.action).toBeUndefined();
    expect(flow.status).toBe(200);
    expect(arrived('/phone-1')).toHaveLength(1);
  });

  it('applies rules saved through the API to the very next request, and counts flows per rule', async () => {
    const rules = { rules: [{ match: { type: 'phone_number' }, action: 'block' }, { match: { type: 'imei' }, action: 'allow' }] };
    const put = await api<RulesResponse>('/api/rules', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(rules) });
    expect(put.rules).toEqual(rules.rules);
    expect(JSON.parse(fs.readFileSync(rulesFile, 'utf8'))).toEqual(rules);

    await curl([...proxy(), '-G', '--data-urlencode', `phone=${PHONE}`, `${upstream.url}/phone-2`]);
    await curl([...proxy(), '-G', '--data-urlencode', `imei=${IMEI}`, `${upstream.url}/imei-2`]);
    expect((await flowFor('/phone-2')).action).toBe('blocked');
    expect((await flowFor('/imei-2')).action).toBeUndefined();
    expect(arrived('/phone-2')).toEqual([]);
    expect(arrived('/imei-2')).toHaveLength(1);
    expect((await api<RulesResponse>('/api/rules')).touched).toEqual([1, 1]);
  });

  it('rejects an invalid rule set naming the field, and keeps the rules in force', async () => {
    const res = await fetch(`${app.uiUrl}api/rules`, asDashboard(app, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rules: [{ match: { host: 'not a host' }, action: 'block' }] }),
    }));
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string; issues: { path: (string | number)[] }[] };
    expect(body.error).toMatch(/^Rule 1: the host must be a host name/);
    expect(body.issues[0].path).toEqual(['rules', 0, 'match', 'host']);
    expect((await api<RulesResponse>('/api/rules')).rules).toHaveLength(2);
  });

  it('carries the destination in the flow, /api/summary and the HAR', async () => {
    const flow = await flowFor('/imei-2');
    expect(flow.destination).toMatchObject({ ip: '127.0.0.1', scope: 'loopback' });
    const summary = await api<{ rows: { host: string; type: string }[] }>('/api/summary');
    expect(summary.rows).toContainEqual(expect.objectContaining({ host: '127.0.0.1', type: 'imei', domain: '127.0.0.1' }));
    const har = await api<{ log: { entries: { request: { url: string }; _leakscope: { destination: object; action?: string } }[] } }>('/api/export.har');
    const entry = har.log.entries.find((e) => e.request.url.includes('/imei-2'));
    expect(entry?._leakscope.destination).toMatchObject({ ip: '127.0.0.1', scope: 'loopback', domain: '127.0.0.1' });
    const blocked = har.log.entries.find((e) => e.request.url.includes('/blocked-1'));
    expect(blocked?._leakscope.action).toBe('blocked');
  });
});
