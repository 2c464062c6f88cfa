// No flow lost: the real CLI under load is stopped with SIGTERM/SIGINT (in-flight flows finish or are recorded
// as interrupted, everything flushed) or killed with SIGKILL (every response a phone saw complete is on disk).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlowSummary } from '../../shared/types';
import { tempDir, waitFor } from '../helpers/leakscope';
import type { Upstream } from '../helpers/upstream';
import { startCli } from './cli-process';
import { startLoad } from './load';
import { lateUpstream, sigtermUnderLoad } from './stopping';

describe('stopping under load', () => {
  let upstream: Upstream;
  let caFile: string;

  beforeAll(async () => {
    ({ upstream, caFile } = await lateUpstream());
  });

  afterAll(() => upstream?.close());

  it('SIGTERM: in-flight flows finish or are recorded as interrupted, and everything is flushed', async () => {
    await sigtermUnderLoad(upstream, ['--upstream-ca', caFile]);
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
