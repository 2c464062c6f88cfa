// What the stop tests share, in one process and with workers: an upstream that answers late or never, the flows a
// stopped leakscope left in its SQLite file, and SIGTERM under load.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ProxyAgent, request } from 'undici';
import { expect } from 'vitest';
import { tempDir, waitFor } from '../helpers/leakscope';
import { startUpstream, type Upstream } from '../helpers/upstream';
import { startCli, type CliProcess } from './cli-process';
import { startLoad } from './load';

/** An HTTPS upstream: `/hang/` never answers (only a stop ends it), `/slow/` answers after 400 ms; its CA in a file. */
export async function lateUpstream(): Promise<{ upstream: Upstream; caFile: string }> {
  const upstream = await startUpstream({
    handler: (req, res) => {
      if (req.url.includes('/hang/')) return;
      setTimeout(() => res.end(`ok ${req.url}`), req.url.includes('/slow/') ? 400 : 0);
    },
  });
  const caFile = path.join(tempDir(), 'upstream-ca.pem');
  fs.writeFileSync(caFile, upstream.caPem);
  return { upstream, caFile };
}

/** The stored flows whose URL holds `needle`, by URL: their status and error. */
export function storedFlows(dataDir: string, needle: string): Map<string, { status: number | null; error?: string }> {
  const db = new Database(path.join(dataDir, 'flows.db'), { readonly: true });
  try {
    const rows = db.prepare('SELECT url, status, flow FROM flows WHERE url LIKE ?').all(`%${needle}%`) as { url: string; status: number | null; flow: string }[];
    return new Map(rows.map((r) => [r.url, { status: r.status, error: (JSON.parse(r.flow) as { error?: string }).error }]));
  } finally {
    db.close();
  }
}

/**
 * The real CLI started with `args`, under load, stopped with SIGTERM while a slow and a hanging exchange are
 * under way at the upstream: it must exit 0 having answered every completed request whole, let the slow one
 * finish in the grace and recorded the hanging one as interrupted. `beforeStop` looks at the running CLI.
 */
export async function sigtermUnderLoad(upstream: Upstream, args: string[], beforeStop: (cli: CliProcess) => Promise<void> = async () => undefined): Promise<CliProcess> {
  const dataDir = tempDir();
  const cli = await startCli(dataDir, ['--stop-grace', '1500', ...args]);
  await beforeStop(cli);
  const caPem = fs.readFileSync(path.join(dataDir, 'ca', 'certs', 'ca.pem'), 'utf8');
  const load = startLoad({ proxyPort: cli.proxyPort, caPem, base: `${upstream.url}/term`, workers: 4, limit: 2000 });
  const agent = new ProxyAgent({ uri: `http://127.0.0.1:${cli.proxyPort}`, requestTls: { ca: caPem } });
  const pending = ['slow', 'hang'].map((kind) =>
    request(`${upstream.url}/${kind}/term`, { dispatcher: agent }).then(
      async (r) => ({ kind, status: r.statusCode, body: await r.body.text() }),
      (err: Error) => ({ kind, status: 0, body: err.message }),
    ),
  );
  // Both exchanges under way at the upstream when the stop comes: one to finish in the grace, one to be interrupted.
  await waitFor(() => load.completed.size >= 30 && ['/slow/term', '/hang/term'].every((u) => upstream.received.some((r) => r.url === u)), 20_000, 'load under way');
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
  return cli;
}
