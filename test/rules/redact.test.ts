// Redaction end to end: the local upstream records what arrived; the detector run on that finds none of the
// redacted values in any form it knows, and the request still parses. Plus the fakes' formats.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDetector } from '../../proxy/detect';
import { FINDINGS_PER_SCAN, SCAN_CAPPED_TAG } from '../../proxy/detect/analyze';
import { parsePhone } from '../../proxy/detect/known/normal-forms';
import { luhnValid } from '../../proxy/detect/patterns/validators';
import { fakeFor } from '../../proxy/rules/fakes';
import { parseIdentifiers } from '../../shared/identifiers';
import type { Flow, FlowSummary } from '../../shared/types';
import { curl, startTestLeakscope, tempDir, waitFor, type TestLeakscope } from '../helpers/leakscope';
import { startUpstream, type ReceivedRequest, type Upstream } from '../helpers/upstream';

const IMEI = '865123456789012';
const PHONE = '+86 138 0013 8000';
const EMAIL = 'tester@example.org';
const ANDROID_ID = '9774d56d682e549c';
const AD_ID = '38400000-8cf0-11bd-b23e-10b96e40000d';
const IDENTIFIERS = {
  devices: [{ name: 'RedMi 1S', imei: [IMEI], phone_number: [PHONE], email: [EMAIL], android_id: [ANDROID_ID], advertising_id: [AD_ID] }],
};
const hash = (algorithm: string, s: string) => createHash(algorithm).update(s).digest('hex');

describe('fakes', () => {
  it('makes a Luhn-valid IMEI with the same model code', () => {
    const fake = fakeFor('imei', IMEI);
    expect(fake).toMatch(/^86512345\d{7}$/);
    expect(fake).not.toBe(IMEI);
    expect(luhnValid(fake)).toBe(true);
  });

  it('makes a valid phone number of the same country, written the same way', () => {
    const fake = fakeFor('phone_number', PHONE);
    expect(fake).toMatch(/^\+86 138 \d{4} \d{4}$/);
    expect(parsePhone(fake)?.isValid()).toBe(true);
  });

  it('keeps the shape of hex IDs, UUIDs, MACs and e-mail addresses, and the same fake each time', () => {
    expect(fakeFor('android_id', ANDROID_ID)).toMatch(/^[0-9a-f]{16}$/);
    expect(fakeFor('advertising_id', AD_ID)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(fakeFor('mac_address', 'A0:86:C6:12:34:56')).toMatch(/^A0:86:C6(:[0-9A-F]{2}){3}$/);
    expect(fakeFor('email', EMAIL)).toMatch(/^[a-z]{6}@example\.org$/);
    expect(fakeFor('iccid', '89860012345678901234')).toSatisfy((f: string) => f.length === 20 && luhnValid(f));
    expect(fakeFor('imei', IMEI)).toBe(fakeFor('imei', IMEI));
  });
});

describe('redact rules', () => {
  let upstream: Upstream;
  let app: TestLeakscope;
  const detector = createDetector((parseIdentifiers(IDENTIFIERS) as { ok: true; value: never }).value);

  beforeAll(async () => {
    upstream = await startUpstream();
    const dir = tempDir();
    const identifiersFile = path.join(dir, 'ids.json');
    fs.writeFileSync(identifiersFile, JSON.stringify(IDENTIFIERS));
    const rulesFile = path.join(dir, 'rules.json');
    fs.writeFileSync(rulesFile, JSON.stringify({ rules: [{ match: {}, action: 'redact' }] }));
    app = await startTestLeakscope({ upstreamCaPem: upstream.caPem, identifiersFile, rulesFile });
  });

  afterAll(async () => {
    await app?.close();
    await upstream?.close();
  });

  const proxy = () => ['-x', `http://127.0.0.1:${app.proxyPort}`, '--cacert', app.caFile];
  const flowFor = async (needle: string) => {
    const api = async <T>(p: string) => (await fetch(`${app.uiUrl}${p}`)).json() as Promise<T>;
    const summary = await waitFor(async () => (await api<FlowSummary[]>('api/flows?limit=500')).find((f) => f.url.includes(needle)), 5000, needle);
    return api<Flow>(`api/flows/${summary.id}`);
  };
  const arrivedAt = (needle: string) => waitFor(() => upstream.received.find((r) => r.url.includes(needle)), 5000, needle);
  const knownFindingsIn = async (r: ReceivedRequest) =>
    (await detector.scanRequest({ url: `${upstream.url}${r.url}`, headers: r.headers as never, body: r.body })).findings.filter((f) => f.confidence === 'known');

  it('replaces values in a JSON body in every encoding, and the body still parses', async () => {
    const body = {
      imei: IMEI,
      imei_md5: hash('md5', IMEI),
      imei_sha1: hash('sha1', IMEI).toUpperCase(),
      imei_b64: Buffer.from(IMEI).toString('base64'),
      phone: '+8613800138000',
      email: EMAIL,
      adid: AD_ID.toUpperCase(),
      note: 'untouched',
    };
    // The original request is flagged: what the phone sent is what the detector knows.
    expect((await detector.scanRequest({ url: 'https://x/', headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(body)) })).findings.length).toBeGreaterThanOrEqual(7);
    await curl([...proxy(), '-H', 'content-type: application/json', '--data', JSON.stringify(body), `${upstream.url}/redact-json`]);
    const got = await arrivedAt('/redact-json');
    const json = JSON.parse(got.body.toString());
    expect(Object.keys(json)).toEqual(Object.keys(body));
    expect(json.note).toBe('untouched');
    expect(json.imei).toMatch(/^\d{15}$/);
    expect(luhnValid(json.imei)).toBe(true);
    expect(json.imei_md5).toBe(hash('md5', json.imei));
    expect(json.imei_sha1).toBe(hash('sha1', json.imei).toUpperCase());
    expect(Buffer.from(json.imei_b64, 'base64').toString()).toBe(json.imei);
    expect(Number(got.headers['content-length'])).toBe(got.body.length);
    expect(await knownFindingsIn(got)).toEqual([]);

    const flow = await flowFor('/redact-json');
    expect(flow.action).toBe('redacted');
    expect(JSON.parse(flow.requestBody!.text)).toEqual(body);
    expect(JSON.parse(flow.sentBody!.text)).toEqual(json);
    expect(flow.findings.some((f) => f.value === IMEI)).toBe(true);
  });

  it('replaces values in the URL (plain and URL-encoded), headers and cookies', async () => {
    await curl([
      ...proxy(),
      '-G',
      '--data-urlencode', `phone=${PHONE}`,
      '--data-urlencode', `email=${EMAIL}`,
      '--data-urlencode', `aid=${ANDROID_ID}`,
      '-H', `X-Device-Id: ${IMEI}`,
      '-H', `Cookie: session=abc; aid=${hash('sha256', ANDROID_ID)}`,
      `${upstream.url}/redact-url/${IMEI}`,
    ]);
    const got = await arrivedAt('/redact-url/');
    expect(got.url).not.toContain(IMEI);
    expect(new URL(got.url, 'https://x').searchParams.get('phone')).toMatch(/^\+86 138 \d{4} \d{4}$/);
    expect(got.headers['x-device-id']).toMatch(/^\d{15}$/);
    expect(got.headers.cookie).toMatch(/^session=abc; aid=[0-9a-f]{64}$/);
    expect(await knownFindingsIn(got)).toEqual([]);
    const flow = await flowFor('/redact-url/');
    expect(flow.sentUrl).toBe(`${upstream.url}${got.url}`);
    expect(flow.url).toContain(IMEI);
  });

  it('replaces values in a form body and a hex-encoded field', async () => {
    const form = `imei=${IMEI}&phone=${encodeURIComponent(PHONE)}&blob=${Buffer.from(ANDROID_ID).toString('hex')}&x=1`;
    await curl([...proxy(), '--data', form, `${upstream.url}/redact-form`]);
    const got = await arrivedAt('/redact-form');
    const params = new URLSearchParams(got.body.toString());
    expect([...params.keys()]).toEqual(['imei', 'phone', 'blob', 'x']);
    expect(params.get('phone')).toMatch(/^\+86 138 \d{4} \d{4}$/);
    expect(Buffer.from(params.get('blob')!, 'hex').toString()).toMatch(/^[0-9a-f]{16}$/);
    expect(await knownFindingsIn(got)).toEqual([]);
  });

  it('redoes the gzip Content-Encoding and fixes Content-Length', async () => {
    const file = path.join(tempDir(), 'body.gz');
    fs.writeFileSync(file, zlib.gzipSync(JSON.stringify({ device: { imei: IMEI, email: EMAIL } })));
    await curl([...proxy(), '-H', 'content-type: application/json', '-H', 'content-encoding: gzip', '--data-binary', `@${file}`, `${upstream.url}/redact-gzip`]);
    const got = await arrivedAt('/redact-gzip');
    expect(got.headers['content-encoding']).toBe('gzip');
    expect(Number(got.headers['content-length'])).toBe(got.body.length);
    const json = JSON.parse(zlib.gunzipSync(got.body).toString());
    expect(json.device.imei).toMatch(/^\d{15}$/);
    expect(json.device.imei).not.toBe(IMEI);
    expect(await knownFindingsIn(got)).toEqual([]);
    expect((await flowFor('/redact-gzip')).action).toBe('redacted');
  });

  it('replaces a pattern finding (an IMEI the identifiers file does not list) with a fake of the same format', async () => {
    const other = '354678901234562';
    await curl([...proxy(), '-H', 'content-type: application/json', '--data', JSON.stringify({ imei: other }), `${upstream.url}/redact-pattern`]);
    const got = await arrivedAt('/redact-pattern');
    const sent = JSON.parse(got.body.toString()).imei;
    expect(sent).toMatch(/^35467890\d{7}$/);
    expect(sent).not.toBe(other);
    expect(luhnValid(sent)).toBe(true);
    const flow = await flowFor('/redact-pattern');
    expect(flow).toMatchObject({ action: 'redacted', findings: [expect.objectContaining({ type: 'imei', value: other, confidence: 'pattern' })] });
  });

  it('blocks instead when the scan was capped, since it may not have listed every value to replace', async () => {
    const macs = Array.from({ length: FINDINGS_PER_SCAN + 10 }, (_, i) => `02:1a:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}:5c:3d`);
    const body = JSON.stringify({ imei: IMEI, macs });
    const r = await curl([...proxy(), '-w', '\n%{http_code}', '-H', 'content-type: application/json', '--data-binary', body, `${upstream.url}/redact-capped`]);
    expect(r.stdout.toString().trim().split(/\n+/)).toEqual(['leakscope: blocked: too many identifiers in this request to redact them all', '403']);
    const flow = await flowFor('/redact-capped');
    expect(flow).toMatchObject({ action: 'blocked', tags: expect.arrayContaining([SCAN_CAPPED_TAG]) });
    expect(upstream.received.find((q) => q.url.includes('/redact-capped'))).toBeUndefined();
  });

  it('blocks instead when a value sits where it cannot be replaced in its encoding chain', async () => {
    // The IMEI in the middle of a base64 blob: its base64 form depends on the bytes before it.
    const blob = Buffer.from(JSON.stringify({ a: 'x', imei: IMEI })).toString('base64');
    const r = await curl([...proxy(), '-w', '\n%{http_code}', '--data', `payload=${blob}&v=1`, `${upstream.url}/redact-nested`]);
    expect(r.stdout.toString().trim().split(/\n+/)).toEqual([expect.stringMatching(/^leakscope: blocked: could not redact imei/), '403']);
    expect((await flowFor('/redact-nested')).action).toBe('blocked');
    expect(upstream.received.find((q) => q.url.includes('/redact-nested'))).toBeUndefined();
  });
});
