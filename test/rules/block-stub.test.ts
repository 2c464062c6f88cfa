// A block rule that answers with a stub so the app keeps running: a 204, or an empty body of the type the app
// expects; nothing reaches the upstream and the flow is recorded as blocked with its findings.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRules } from '../../shared/rules';
import type { Flow, FlowSummary } from '../../shared/types';
import { curl, startTestLeakscope, tempDir, waitFor, type TestLeakscope } from '../helpers/leakscope';
import { startUpstream, type Upstream } from '../helpers/upstream';

const IMEI = '865123456789012';
const IMSI = '460001234567890';

describe('block rules with a stub answer', () => {
  let upstream: Upstream;
  let app: TestLeakscope;

  beforeAll(async () => {
    upstream = await startUpstream();
    const dir = tempDir();
    const identifiersFile = path.join(dir, 'ids.json');
    fs.writeFileSync(identifiersFile, JSON.stringify({ devices: [{ name: 'RedMi 1S', imei: [IMEI], imsi: [IMSI] }] }));
    const rulesFile = path.join(dir, 'rules.json');
    fs.writeFileSync(
      rulesFile,
      JSON.stringify({
        rules: [
          { match: { type: 'imei' }, action: 'block', answer: 'no-content' },
          { match: { type: 'imsi' }, action: 'block', answer: 'empty' },
        ],
      }),
    );
    app = await startTestLeakscope({ upstreamCaPem: upstream.caPem, identifiersFile, rulesFile });
  });

  afterAll(async () => {
    await app?.close();
    await upstream?.close();
  });

  const send = (pathname: string, body: unknown, ...headers: string[]) =>
    curl([
      '-x', `http://127.0.0.1:${app.proxyPort}`, '--cacert', app.caFile, '-D', '-', '-H', 'content-type: application/json',
      ...headers.flatMap((h) => ['-H', h]), '--data', JSON.stringify(body), `${upstream.url}${pathname}`,
    ]);
  /** The final response's head and body (curl -D - also prints the proxy's answer to CONNECT first). */
  const answer = (stdout: Buffer) => {
    const parts = stdout.toString().split('\r\n\r\n');
    const last = parts.findLastIndex((p) => /^HTTP\/\S+ \d{3}/.test(p));
    return { head: parts[last].toLowerCase(), body: parts.slice(last + 1).join('\r\n\r\n') };
  };
  const flowFor = async (needle: string) => {
    const list = async () => (await (await fetch(`${app.uiUrl}api/flows`)).json()) as FlowSummary[];
    const summary = await waitFor(async () => (await list()).find((f) => f.url.includes(needle)), 5000, needle);
    return (await (await fetch(`${app.uiUrl}api/flows/${summary.id}`)).json()) as Flow;
  };

  it('answers 204 with no body for `no-content`', async () => {
    const { head, body } = answer((await send('/stub-204', { imei: IMEI })).stdout);
    expect(head).toMatch(/^http\/\S+ 204/);
    expect(body).toBe('');
    const flow = await flowFor('/stub-204');
    expect(flow).toMatchObject({ action: 'blocked', status: 204 });
    expect(flow.findings).toContainEqual(expect.objectContaining({ type: 'imei', value: IMEI }));
    expect(upstream.received.filter((x) => x.url.includes('/stub-204'))).toEqual([]);
  });

  it('answers 200 with an empty body of the accepted type for `empty`', async () => {
    const { head, body } = answer((await send('/stub-empty', { imsi: IMSI }, 'accept: application/x-protobuf, */*;q=0.5')).stdout);
    expect(head).toMatch(/^http\/\S+ 200/);
    expect(head).toContain('content-type: application/x-protobuf');
    expect(head).toContain('content-length: 0');
    expect(body).toBe('');
    expect(await flowFor('/stub-empty')).toMatchObject({ action: 'blocked', status: 200 });
    expect(upstream.received.filter((x) => x.url.includes('/stub-empty'))).toEqual([]);
    // without an Accept: the type of what it sent
    expect(answer((await send('/stub-empty-2', { imsi: IMSI }, 'accept:')).stdout).head).toContain('content-type: application/json');
  });

  it('refuses an answer on a rule that does not block', () => {
    const parsed = parseRules({ rules: [{ match: {}, action: 'redact', answer: 'empty' }] });
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.error).toContain('Rule 1: the answer is only for a block rule');
  });
});
