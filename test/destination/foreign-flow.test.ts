// The pipeline's destination and `foreign` tag for a request to a public address (no network: the exchange is
// handed to the pipeline as forward.ts would, with the address it connected to).
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CapturedRequest, Exchange } from '../../proxy/capture/forward';
import { createDetector } from '../../proxy/detect';
import { createPipeline } from '../../proxy/pipeline';
import { RulesHolder } from '../../proxy/rules/rules-holder';
import { FlowStore } from '../../proxy/store/flow-store';
import { parseIdentifiers } from '../../shared/identifiers';
import type { Rules } from '../../shared/rules';
import { tempDir } from '../helpers/leakscope';

const IMEI = '865123456789012';
const identifiers = (parseIdentifiers({ devices: [{ name: 'RedMi 1S', imei: [IMEI] }] }) as { ok: true; value: never }).value;

function request(query: string): CapturedRequest {
  return {
    client: '192.168.1.23',
    method: 'GET',
    url: `https://alog.umeng.com/report?${query}`,
    host: 'alog.umeng.com',
    port: 443,
    isSSL: true,
    path: `/report?${query}`,
    httpVersion: 'HTTP/1.1',
    headers: { host: 'alog.umeng.com' },
    body: Buffer.alloc(0),
    bodyTruncated: false,
    start: Date.now(),
  };
}

describe('destination and foreign tag on a flow', () => {
  const stores: FlowStore[] = [];
  afterEach(() => stores.splice(0).forEach((s) => s.close()));

  async function run(query: string, homeCountry: string | undefined, rules: Rules = { rules: [] }) {
    const dir = tempDir();
    const rulesFile = path.join(dir, 'rules.json');
    fs.writeFileSync(rulesFile, JSON.stringify(rules));
    const store = new FlowStore(dir);
    stores.push(store);
    const pipeline = createPipeline({
      detector: () => createDetector(identifiers),
      store,
      publish: () => {},
      deviceName: () => undefined,
      rules: new RulesHolder(rulesFile),
      homeCountry,
    });
    const req = request(query);
    const verdict = await pipeline.inspect(req);
    const exchange: Exchange = { request: req, requestSize: 0, status: 200, responseBody: Buffer.alloc(0), responseSize: 0, responseTruncated: false, remoteAddress: '223.5.5.5', total: 1 };
    await pipeline.complete(exchange, verdict);
    await pipeline.drain();
    return { flow: [...store.flows({})][0], summary: store.summary() };
  }

  it('records where identifiers went: address, country, organisation; in the flow and in the summary', async () => {
    const { flow, summary } = await run(`imei=${IMEI}`, undefined);
    expect(flow.destination).toEqual({ domain: 'umeng.com', org: 'Alibaba Group', ip: '223.5.5.5', scope: 'public', country: 'CN' });
    expect(flow.tags).not.toContain('foreign');
    expect(summary).toEqual([expect.objectContaining({ host: 'alog.umeng.com', domain: 'umeng.com', country: 'CN', org: 'Alibaba Group', type: 'imei' })]);
  });

  it('tags identifiers leaving for a country other than home as foreign', async () => {
    expect((await run(`imei=${IMEI}`, 'DE')).flow.tags).toContain('foreign');
    expect((await run(`imei=${IMEI}`, 'CN')).flow.tags).not.toContain('foreign');
    expect((await run('q=weather', 'DE')).flow.tags).not.toContain('foreign');
  });

  it('does not tag a flow whose identifiers were all redacted', async () => {
    const { flow } = await run(`imei=${IMEI}`, 'DE', { rules: [{ match: { type: 'imei' }, action: 'redact' }] });
    expect(flow.action).toBe('redacted');
    expect(flow.sentUrl).not.toContain(IMEI);
    expect(flow.tags).not.toContain('foreign');
  });
});
