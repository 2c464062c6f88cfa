// Bodies larger than what leakscope keeps: they pass through whole and byte for byte, the flow keeps the capped
// start marked `truncated`, and what sits in the kept part is still detected.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REQUEST_CAPTURE_BYTES, RESPONSE_CAPTURE_BYTES } from '../../proxy/capture/limits';
import { curl, startTestLeakscope, tempDir, waitFor, type TestLeakscope } from '../helpers/leakscope';
import { startUpstream, type Upstream } from '../helpers/upstream';

const IMEI = '865123456789012';
const sha256 = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');
const BIG_RESPONSE = crypto.randomBytes(3 * 1024 * 1024);

describe('bodies beyond the capture caps', () => {
  let upstream: Upstream;
  let app: TestLeakscope;
  let dir: string;

  beforeAll(async () => {
    dir = tempDir();
    const ids = path.join(dir, 'ids.json');
    fs.writeFileSync(ids, JSON.stringify({ devices: [{ name: 'Lab phone', imei: [IMEI] }] }));
    upstream = await startUpstream({
      handler: (req, res) => {
        if (req.url === '/big-download') {
          res.writeHead(200, { 'content-type': 'application/octet-stream' });
          res.end(BIG_RESPONSE);
        } else {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ sha256: sha256(req.body), bytes: req.body.length }));
        }
      },
    });
    app = await startTestLeakscope({ upstreamCaPem: upstream.caPem, identifiersFile: ids });
  });

  afterAll(async () => {
    await app?.close();
    await upstream?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const proxied = (url: string, ...args: string[]) => curl(['-x', `http://127.0.0.1:${app.proxyPort}`, '--cacert', app.caFile, ...args, url]);
  const flowAt = async (p: string) => {
    const summary = await waitFor(() => app.store.summaries({ q: p })[0], 5000, `flow ${p}`);
    return app.store.get(summary.id)!;
  };

  it('forwards a 5 MiB upload whole, keeps its first MiB, and finds the IMEI in it', async () => {
    const body = Buffer.from(JSON.stringify({ imei: IMEI, blob: crypto.randomBytes(4_000_000).toString('base64') }));
    expect(body.length).toBeGreaterThan(5 * 1024 * 1024);
    const file = path.join(dir, 'upload.json');
    fs.writeFileSync(file, body);
    const r = await proxied(`${upstream.url}/big-upload`, '-H', 'content-type: application/json', '--data-binary', `@${file}`);
    expect(JSON.parse(r.stdout.toString())).toEqual({ sha256: sha256(body), bytes: body.length });

    const flow = await flowAt('/big-upload');
    expect(flow.requestBody).toMatchObject({ size: body.length, truncated: true });
    // Kept: the bytes read until the cap was passed (the last network read may cross it by up to 64 KiB).
    const kept = flow.requestBody!.text;
    expect(kept.length).toBeGreaterThanOrEqual(REQUEST_CAPTURE_BYTES);
    expect(kept.length).toBeLessThanOrEqual(REQUEST_CAPTURE_BYTES + 64 * 1024);
    expect(kept).toBe(body.subarray(0, kept.length).toString());
    expect(flow.findings).toContainEqual(expect.objectContaining({ type: 'imei', where: 'body', confidence: 'known' }));
  });

  it('forwards a 3 MiB download byte for byte and keeps only its start', async () => {
    const r = await proxied(`${upstream.url}/big-download`);
    expect(r.stdout.length).toBe(BIG_RESPONSE.length);
    expect(sha256(r.stdout)).toBe(sha256(BIG_RESPONSE));

    const flow = await flowAt('/big-download');
    expect(flow.responseBody).toMatchObject({ size: BIG_RESPONSE.length, truncated: true });
    const kept = Buffer.from(flow.responseBody!.text, flow.responseBody!.encoding === 'base64' ? 'base64' : 'utf8');
    expect(kept.length).toBeGreaterThan(RESPONSE_CAPTURE_BYTES / 2);
    expect(kept.length).toBeLessThanOrEqual(RESPONSE_CAPTURE_BYTES);
    expect(kept.equals(BIG_RESPONSE.subarray(0, kept.length))).toBe(true);
  });

  it('forwards a gzip bomb unchanged and scans only a bounded amount of it', async () => {
    // 64 MiB of zeros compress to ~64 KiB: decoding it whole would be the proxy's problem, not the phone's.
    const bomb = zlib.gzipSync(Buffer.concat([Buffer.from(`{"imei":"${IMEI}","z":"`), Buffer.alloc(64 * 1024 * 1024, 0x30), Buffer.from('"}')]));
    const file = path.join(dir, 'bomb.gz');
    fs.writeFileSync(file, bomb);
    const r = await proxied(`${upstream.url}/bomb`, '-H', 'content-type: application/json', '-H', 'content-encoding: gzip', '--data-binary', `@${file}`);
    expect(JSON.parse(r.stdout.toString())).toEqual({ sha256: sha256(bomb), bytes: bomb.length });

    const flow = await flowAt('/bomb');
    expect(flow.requestBody).toMatchObject({ size: bomb.length, truncated: true, decoded: 'gzip' });
    expect(flow.findings).toContainEqual(expect.objectContaining({ type: 'imei', where: 'body', encoding: 'gzip' }));
  });
});
