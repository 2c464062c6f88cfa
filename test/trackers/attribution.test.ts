// Tracker attribution with the real trackhar adapters: which tracker a flow went to, its name on every finding,
// and the identifier fields its format names that known values and patterns missed. The exchange is handed to
// the pipeline as forward.ts would (no network: the tracker's host is never contacted).
import fs from 'node:fs';
import path from 'node:path';
import protobuf from 'protobufjs/minimal.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { CapturedRequest, Exchange } from '../../proxy/capture/forward';
import { createDetector } from '../../proxy/detect';
import { harEntry } from '../../proxy/har/export';
import { createPipeline } from '../../proxy/pipeline';
import { RulesHolder } from '../../proxy/rules/rules-holder';
import { FlowStore } from '../../proxy/store/flow-store';
import { createTrackerAttributor } from '../../proxy/trackers/attribute';
import { EMPTY_IDENTIFIERS, parseIdentifiers } from '../../shared/identifiers';
import type { Flow } from '../../shared/types';
import { tempDir } from '../helpers/leakscope';

const GAID = '6d92078a-8246-4ba4-ae5b-76104861e7dc';
const ANDROID_ID = '9774d56d682e549c';

function request(url: string, body: string | Buffer, contentType = 'application/x-www-form-urlencoded'): CapturedRequest {
  const u = new URL(url);
  return {
    client: '192.168.1.23',
    method: 'POST',
    url,
    host: u.hostname,
    port: 443,
    isSSL: true,
    path: u.pathname + u.search,
    httpVersion: 'HTTP/1.1',
    headers: { host: u.hostname, 'content-type': contentType },
    body: Buffer.from(body),
    bodyTruncated: false,
    start: Date.now(),
  };
}

describe('tracker attribution', () => {
  const trackers = createTrackerAttributor();
  const stores: FlowStore[] = [];
  afterEach(() => stores.splice(0).forEach((s) => s.close()));

  async function record(req: CapturedRequest, identifiers = EMPTY_IDENTIFIERS): Promise<Flow> {
    const dir = tempDir();
    const rulesFile = path.join(dir, 'rules.json');
    fs.writeFileSync(rulesFile, JSON.stringify({ rules: [] }));
    const store = new FlowStore(dir);
    stores.push(store);
    const pipeline = createPipeline({ detector: () => createDetector(identifiers), store, publish: () => {}, deviceName: () => undefined, rules: new RulesHolder(rulesFile), trackers });
    const verdict = await pipeline.inspect(req);
    const exchange: Exchange = { request: req, requestSize: req.body.length, status: 200, responseBody: Buffer.alloc(0), responseSize: 0, responseTruncated: false, remoteAddress: '185.151.204.1', total: 1 };
    await pipeline.complete(exchange, verdict);
    await pipeline.drain();
    return store.get(store.lastId())!;
  }

  it('names the tracker on the flow, on each finding and in the HAR, and adds what only its format names', async () => {
    // Google's app measurement (Firebase Analytics) sends protobuf: field 1.19 is the advertising ID, which
    // no key says; the Android ID's number in 1.3 is a known value's.
    const bundle = protobuf.Writer.create().uint32((19 << 3) | 2).string(GAID).uint32((3 << 3) | 0).uint64(BigInt(`0x${ANDROID_ID}`).toString()).finish();
    const body = Buffer.from(protobuf.Writer.create().uint32((1 << 3) | 2).bytes(bundle).finish());
    const ids = parseIdentifiers({ devices: [{ name: 'Pixel', android_id: [ANDROID_ID] }] });
    if (!ids.ok) throw new Error(ids.error);
    const flow = await record(request('https://app-measurement.com/a', body, 'application/x-protobuf'), ids.value);
    expect(flow.tracker).toEqual({ slug: 'google', name: 'Google LLC' });
    expect(flow.findings.map((f) => `${f.type} ${f.value} ${f.path} ${f.encoding} ${f.confidence} ${f.tracker}`)).toEqual([
      `android_id ${ANDROID_ID} $.1.3 protobuf known google`,
      `advertising_id ${GAID} 1.*.19 protobuf tracker google`,
    ]);
    expect(harEntry(flow)._leakscope.tracker).toEqual({ slug: 'google', name: 'Google LLC' });
  });

  it('adds nothing the detector already found, known or pattern', async () => {
    const ids = parseIdentifiers({ devices: [{ name: 'Pixel', advertising_id: [GAID.toUpperCase()] }] });
    if (!ids.ok) throw new Error(ids.error);
    const flow = await record(request('https://app.adjust.com/session', `gps_adid=${GAID}&app_token=abc123`), ids.value);
    expect(flow.findings.map((f) => `${f.type} ${f.confidence} ${f.tracker}`)).toEqual(['advertising_id known adjust']);
  });

  it('leaves a host no adapter knows alone', async () => {
    const flow = await record(request('https://api.example.com/a', `q=${GAID}&v=1`));
    expect(flow.tracker).toBeUndefined();
    expect(flow.findings).toEqual([]);
  });
});
