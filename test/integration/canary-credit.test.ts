// A caught canary is the sending phone's leak: its finding names that phone, keeps `source: "canaries"`, and
// nothing is filed under a device called "canaries" (flow, finding, matrix).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SummaryResponse } from '../../shared/api';
import type { FlowSummary } from '../../shared/types';
import { curl, startTestLeakscope, tempDir, waitFor, type TestLeakscope } from '../helpers/leakscope';
import { startUpstream, type Upstream } from '../helpers/upstream';

const CANARY = { name: 'Alice Canary1', phone: ['+1 202 555 0100'], email: ['canary-abc-1@example.org'] };
const IMEI = '865123456789012';

describe.each([
  ['named by its client address', { name: 'RedMi 1S', client: '127.0.0.1', imei: [IMEI] }, 'RedMi 1S'],
  ['known only by its values', { name: 'Pixel 7', imei: [IMEI] }, 'Pixel 7'],
])('a canary sent by a phone %s', (_, phone, device) => {
  let upstream: Upstream;
  let app: TestLeakscope;
  beforeAll(async () => {
    upstream = await startUpstream({ tls: false });
    const identifiersFile = path.join(tempDir(), 'ids.json');
    fs.writeFileSync(identifiersFile, JSON.stringify({ devices: [phone, { name: 'canaries', contacts: [CANARY] }] }));
    app = await startTestLeakscope({ identifiersFile });
  });
  afterAll(async () => {
    await app?.close();
    await upstream?.close();
  });

  it('is credited to the phone, with the canaries as its source', async () => {
    const body = JSON.stringify({ device: IMEI, contacts: [{ tel: CANARY.phone[0] }] });
    await curl(['-x', `http://127.0.0.1:${app.proxyPort}`, '-H', 'content-type: application/json', '--data', body, `${upstream.url}/contacts-upload`]);
    const flow = await waitFor(async () => ((await (await fetch(`${app.uiUrl}api/flows?flagged=1`)).json()) as FlowSummary[]).find((f) => f.url.endsWith('/contacts-upload')));
    expect(flow.device).toBe(device);
    expect(flow.findings.find((f) => f.type === 'contact')).toMatchObject({ value: CANARY.phone[0], device, source: 'canaries', confidence: 'known' });
    const summary = (await (await fetch(`${app.uiUrl}api/summary`)).json()) as SummaryResponse;
    expect(summary.rows.filter((r) => r.type === 'contact').map((r) => r.device)).toEqual([device]);
  });
});

describe('a canary from a phone leakscope cannot name', () => {
  let upstream: Upstream;
  let app: TestLeakscope;
  beforeAll(async () => {
    upstream = await startUpstream({ tls: false });
    const identifiersFile = path.join(tempDir(), 'ids.json');
    fs.writeFileSync(identifiersFile, JSON.stringify({ devices: [{ name: 'canaries', contacts: [CANARY] }] }));
    app = await startTestLeakscope({ identifiersFile });
  });
  afterAll(async () => {
    await app?.close();
    await upstream?.close();
  });

  it('is its client address\'s, never a device called "canaries"', async () => {
    await curl(['-x', `http://127.0.0.1:${app.proxyPort}`, `${upstream.url}/up?email=${encodeURIComponent(CANARY.email[0])}`]);
    const flow = await waitFor(async () => ((await (await fetch(`${app.uiUrl}api/flows?flagged=1`)).json()) as FlowSummary[]).find((f) => f.url.includes('/up?')));
    expect(flow.device).toBeUndefined();
    expect(flow.client).toBe('127.0.0.1');
    expect(flow.findings).toEqual([expect.objectContaining({ type: 'contact', source: 'canaries' })]);
    expect(flow.findings[0].device).toBeUndefined();
    const devices = (await (await fetch(`${app.uiUrl}api/devices`)).json()) as { client: string; name?: string }[];
    expect(devices).toEqual([expect.objectContaining({ client: '127.0.0.1' })]);
    expect(devices[0].name).toBeUndefined();
  });
});
