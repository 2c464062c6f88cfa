// Full-text search, filter expressions and marks against a real leakscope with a real proxy in front of an upstream:
// GET /api/flows?filter=, PUT /api/flows/:id/mark, the HAR export, and `export --filter` / `scan --filter` as processes.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Flow, FlowSummary } from '../../shared/types';
import { asDashboard, curl, proxyInFrontOfUpstream, tempDir, waitFor } from '../helpers/leakscope';

const BIN = path.resolve(__dirname, '../../bin/leakscope.js');

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, LEAKSCOPE_LOG: 'silent' }, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('search, filters and marks', () => {
  const env = proxyInFrontOfUpstream();
  const proxied = (url: string, ...args: string[]) => curl(['-x', `http://127.0.0.1:${env.app.proxyPort}`, '--cacert', env.app.caFile, ...args, url]);
  const flows = async (filter: string) => {
    const res = await fetch(`${env.app.uiUrl}api/flows?filter=${encodeURIComponent(filter)}`);
    expect(res.status).toBe(200);
    return ((await res.json()) as FlowSummary[]).map((f) => new URL(f.url).pathname).sort();
  };
  const mark = (id: number, body: unknown) =>
    fetch(`${env.app.uiUrl}api/flows/${id}/mark`, asDashboard(env.app, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }));

  it('a word only in a request body finds its flow; expressions narrow like the contract says', async () => {
    await proxied(`${env.upstream.url}/upload-one`, '-H', 'content-type: application/json', '--data', '{"note":"a capybara in the body"}');
    await proxied(`${env.upstream.url}/upload-two`, '-H', 'content-type: application/json', '--data', '{"imei":"490154203237518"}');
    await proxied(`${env.upstream.url}/plain-get`);
    await waitFor(async () => (await flows('~u /')).length === 3, 5000, 'three flows');
    expect(await flows('capybara')).toEqual(['/upload-one']);
    expect(await flows('~bq capybara')).toEqual(['/upload-one']);
    expect(await flows('~bs capybara')).toEqual([]);
    expect(await flows('~t imei')).toEqual(['/upload-two']);
    expect(await flows('~m post & !~t imei')).toEqual(['/upload-one']);
    expect(await flows('~m get | capybara')).toEqual(['/plain-get', '/upload-one']);
  });

  it('a bad expression is a 400 naming the position', async () => {
    const res = await fetch(`${env.app.uiUrl}api/flows?filter=${encodeURIComponent('~m post & ~nope x')}`);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string; position: number };
    expect(body.position).toBe(11);
    expect(body.error).toBe('bad filter at position 11: unknown operator "~nope"');
  });

  it('marks and comments round-trip, filter with ~marked, and reach the HAR export', async () => {
    const [target] = (await (await fetch(`${env.app.uiUrl}api/flows?filter=capybara`)).json()) as FlowSummary[];
    const res = await mark(target.id, { marked: true, comment: '<b>check this</b> with legal' });
    expect(res.status).toBe(200);
    expect((await res.json()) as Flow).toMatchObject({ id: target.id, marked: true, comment: '<b>check this</b> with legal' });
    expect(((await (await fetch(`${env.app.uiUrl}api/flows/${target.id}`)).json()) as Flow).comment).toBe('<b>check this</b> with legal');
    expect(await flows('~marked')).toEqual(['/upload-one']);

    const har = (await (await fetch(`${env.app.uiUrl}api/export.har?filter=~marked`, asDashboard(env.app))).json()) as {
      log: { entries: { _leakscope: { marked?: boolean; comment?: string } }[] };
    };
    expect(har.log.entries.map((e) => e._leakscope)).toEqual([expect.objectContaining({ marked: true, comment: '<b>check this</b> with legal' })]);

    // A cross-site page cannot mark; a bad body is refused; unmarking clears the comment too.
    const foreign = await fetch(`${env.app.uiUrl}api/flows/${target.id}/mark`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', origin: 'http://evil.example' },
      body: JSON.stringify({ marked: false }),
    });
    expect(foreign.status).toBe(403);
    expect((await mark(target.id, { marked: 'yes' })).status).toBe(400);
    expect((await mark(999_999, { marked: true })).status).toBe(404);
    expect(await (await mark(target.id, { marked: false, comment: '' })).json()).not.toHaveProperty('comment');
    expect(await flows('~marked')).toEqual([]);
    await mark(target.id, { marked: true, comment: 'kept for the CLI' });
  });

  it('export --filter and scan --filter take the same expressions; a bad one exits 2 naming the position', async () => {
    const out = path.join(tempDir(), 'marked.har');
    const exported = await run(['export', '--data-dir', env.app.dataDir, '--filter', '~marked | ~t imei', '--out', out]);
    expect(exported.stderr).toBe(`wrote 2 entries to ${out}\n`);
    expect(exported.code).toBe(0);

    const scanned = await run(['scan', out, '--json', '--filter', '~marked']);
    expect(scanned.code).toBe(0);
    const report = JSON.parse(scanned.stdout) as { entries: number; flagged: number; findings: unknown[] };
    expect(report).toMatchObject({ entries: 2, flagged: 0, findings: [] });
    const imei = JSON.parse((await run(['scan', out, '--json', '--filter', '~t imei & ~bq 49015420'])).stdout) as { findings: { url: string }[] };
    expect(imei.findings.map((f) => new URL(f.url).pathname)).toEqual(['/upload-two']);

    for (const args of [['export', '--data-dir', env.app.dataDir], ['scan', out]]) {
      const bad = await run([...args, '--filter', '~t imei &']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toBe('leakscope: --filter: bad filter at position 10: the expression ends where a term should follow\n');
    }
    expect(fs.existsSync(out)).toBe(true);
  }, 90_000); // six CLI processes, each a Node start-up, on a shared 2-core machine
});
