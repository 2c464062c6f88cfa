// Long cookies and URLs pass whole; a head past 64 KiB gets a 431 with a text body and is still recorded and
// scanned; one past what the parser reads gets a 431 too, never a bare close. Real curl through real TLS, over
// HTTP/2 (curl's default) where the head fits and over HTTP/1.1 past it: nghttp2, under node's HTTP/2, ends the
// connection on a header block it will not decode, so the 431 is HTTP/1.1's.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Flow, FlowSummary } from '../../shared/types';
import { curl, proxyInFrontOfUpstream, tempDir, waitFor } from '../helpers/leakscope';
import { startUpstream } from '../helpers/upstream';

const IMEI = '490154203237518';

describe('big request heads', () => {
  const env = proxyInFrontOfUpstream();
  const proxy = () => ['-x', `http://127.0.0.1:${env.app.proxyPort}`, '--cacert', env.app.caFile];
  const flowFor = async (needle: string) => {
    const summary = await waitFor(async () => ((await (await fetch(`${env.app.uiUrl}api/flows?limit=50`)).json()) as FlowSummary[]).find((f) => f.url.includes(needle)), 5000, needle);
    return (await (await fetch(`${env.app.uiUrl}api/flows/${summary.id}`)).json()) as Flow;
  };
  /** curl reads the header from a file: a 300 KiB argument list is more than some shells pass. */
  const headerFile = (name: string, value: string) => {
    const file = path.join(tempDir(), 'header.txt');
    fs.writeFileSync(file, `${name}: ${value}\r\n`);
    return `@${file}`;
  };

  it('passes a 32 KiB cookie whole', async () => {
    const cookie = `session=${'c'.repeat(32 * 1024)}`;
    const r = await curl([...proxy(), '-H', headerFile('Cookie', cookie), `${env.upstream.url}/cookie32`]);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout.toString())).toMatchObject({ ok: true, url: '/cookie32' });
    expect(env.upstream.received.find((q) => q.url === '/cookie32')?.headers.cookie).toBe(cookie);
    expect((await flowFor('/cookie32')).status).toBe(200);
  });

  it('passes a 60 KiB URL whole', async () => {
    const long = `/long?q=${'u'.repeat(60 * 1024)}`;
    const r = await curl([...proxy(), `${env.upstream.url}${long}`]);
    expect(r.stderr).toBe('');
    expect(env.upstream.received.some((q) => q.url === long)).toBe(true);
    expect((await flowFor('/long?q=uuu')).status).toBe(200);
  });

  it('answers a head over 64 KiB with a 431 in text, and records and scans it', async () => {
    const before = env.upstream.received.length;
    const r = await curl([...proxy(), '--http1.1', '-w', '\n%{http_code}', '-H', headerFile('Cookie', `imei=${IMEI}; pad=${'p'.repeat(80 * 1024)}`), `${env.upstream.url}/cookie80`]);
    const [body, code] = r.stdout.toString().split('\n').filter(Boolean);
    expect(code).toBe('431');
    expect(body).toMatch(/leakscope: the request's line and headers are 8\d\.\d KiB, over the 64 KiB/);
    const flow = await flowFor('/cookie80');
    expect(flow.status).toBe(431);
    expect(flow.error).toMatch(/over the 64 KiB/);
    expect(flow.findings).toContainEqual(expect.objectContaining({ type: 'imei', value: IMEI }));
    expect(env.upstream.received.slice(before).some((q) => q.url === '/cookie80')).toBe(false);
  });

  it('answers a head past what it reads with a 431 in text, and keeps serving', async () => {
    // Plain HTTP to the proxy port: inside TLS, node's parser stalls on such a head (limits.ts), and the header
    // timeout ends it.
    const plain = await startUpstream({ tls: false });
    try {
      const r = await curl(['-x', `http://127.0.0.1:${env.app.proxyPort}`, '-w', '\n%{http_code}', '-H', headerFile('X-Pad', 'x'.repeat(200 * 1024)), `${plain.url}/huge`]);
      const [body, code] = r.stdout.toString().split('\n').filter(Boolean);
      expect(code).toBe('431');
      expect(body).toMatch(/over 128 KiB/);
      expect(plain.received).toHaveLength(0);
    } finally {
      await plain.close();
    }
    const after = await curl([...proxy(), `${env.upstream.url}/after-huge`]);
    expect(JSON.parse(after.stdout.toString())).toMatchObject({ ok: true });
  });
});
