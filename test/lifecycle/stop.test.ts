// No flow lost: the real CLI under load is stopped with SIGTERM/SIGINT (in-flight flows finish or are recorded
// as interrupted, everything flushed) or killed with SIGKILL (every response a phone saw complete is on disk).
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ProxyAgent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlowSummary } from '../../shared/types';
import { tempDir, waitFor } from '../helpers/leakscope';
import { startUpstream, type Upstream } from '../helpers/upstream';
import { startCli } from './cli-process';
import { startLoad } from './load';

interface Row {
  url: string;
  status: number | null;
  error?: string;
}

function storedFlows(dataDir: string, needle: string): Map<string, Row> {
  const db = new Database(path.join(dataDir, 'flows.db'), { readonly: true });
  try {
    const rows = db.prepare('SELECT url, status, flow FROM flows WHERE url LIKE ?').all(`%${needle}%`) as { url: string; status: number | null; flow: string }[];
    return new Map(rows.map((r) => [r.url, { url: r.url, status: r.status, error: (JSON.parse(r.flow) as { error?: string }).error }]));
  } finally {
    db.close();
  }
}

describe('stopping under load', () => {
  let upstream: Upstream;
  let caFile: string;

  beforeAll(async () => {
    upstream = await startUpstream({
      handler: (req, res) => {
        if (req.url.includes('/hang/')) return; // never answers: only a stop ends it
        setTimeout(() => res.end(`ok ${req.url}`), req.url.includes('/slow/') ? 400 : 0);
      },
    });
    caFile = path.join(tempDir(), 'upstream-ca.pem');
    fs.writeFileSync(caFile, upstream.caPem);
  });

  afterAll(() => upstream?.close());

  it('SIGTERM: in-flight flows finish or are recorded as interrupted, and everything is flushed', async () => {
    const dataDir = tempDir();
    const cli = await startCli(dataDir, ['--upstream-ca', caFile, '--stop-grace', '1500']);
    const caPem = fs.readFileSync(path.join(dataDir, 'ca', 'certs', 'ca.pem'), 'utf8');
    const load = startLoad({ proxyPort: cli.proxyPort, caPem, base: `${upstream.url}/term`, workers: 4, limit: 2000 });
    // Two requests still waiting for their upstream when the signal comes: one finishes within the grace, one never.
    const agent = new ProxyAgent({ uri: `http://127.0.0.1:${cli.proxyPort}`, requestTls: { ca: caPem } });
    const pending = ['slow', 'hang'].map((kind) =>
      request(`${upstream.url}/${kind}/term`, { dispatcher: agent }).then(
        async (r) => ({ kind, status: r.statusCode, body: await r.body.text() }),
        (err: Error) => ({ kind, status: 0, body: err.message }),
      ),
    );
    // Both exchanges under way at the upstream when the stop comes: one to finish in the grace, one to be interrupted.
    await waitFor(() => load.completed.size >= 30 && ['/slow/term', '/hang/term'].every((u) => upstream.received.some((r) => r.url === u)), 10_000, 'load under way');
    cli.child.kill('SIGTERM');
    expect(await cli.exited, cli.output()).toBe(0);
    load.stop();
    await load.done;
    const [slow] = await Promise.all(pending);
    await agent.destroy();
    expect(slow).toMatchObject({ kind: 'slow', status: 200 });

    const stored = storedFlows(dataDir, '/term');
    for (const url of load.completed.keys()) expect(stored.get(url), url).toMatchObject({ status: 200, error: undefined });
    expect(stored.get(`${upstream.url}/slow/term`)).toMatchObject({ status: 200, error: undefined });
    expect(stored.get(`${upstream.url}/hang/term`)?.error).toMatch(/^interrupted/);
    // Nothing half-written: every stored flow either completed or says it was interrupted.
    for (const row of stored.values()) if (row.error) expect(row.error).toMatch(/^interrupted|client closed/);
    expect(cli.output()).toMatch(/stopped; flows are saved in/);
  });

  it('SIGKILL: after a restart every flow whose response had completed is in the database', async () => {
    const dataDir = tempDir();
    const cli = await startCli(dataDir, ['--upstream-ca', caFile]);
    const caPem = fs.readFileSync(path.join(dataDir, 'ca', 'certs', 'ca.pem'), 'utf8');
    const load = startLoad({ proxyPort: cli.proxyPort, caPem, base: `${upstream.url}/kill`, workers: 8, limit: 3000 });
    await waitFor(() => load.completed.size >= 150, 15_000, '150 completed responses');
    cli.child.kill('SIGKILL');
    const seenComplete = new Set(load.completed.keys());
    expect(await cli.exited).toBe('SIGKILL');
    load.stop();
    await load.done;

    const restarted = await startCli(dataDir, ['--upstream-ca', caFile]);
    try {
      const flows = (await (await fetch(`${restarted.uiUrl}api/flows?limit=5000&q=/kill/`)).json()) as FlowSummary[];
      const urls = new Set(flows.map((f) => f.url));
      const missing = [...seenComplete].filter((url) => !urls.has(url));
      expect(missing).toEqual([]);
      expect(urls.size).toBeGreaterThanOrEqual(seenComplete.size);
    } finally {
      restarted.child.kill('SIGINT');
      expect(await restarted.exited).toBe(0);
    }
  });
});
