// `leakscope start --workers 2` as a tester runs it: bad values refused, a SIGTERM that finishes or records
// every exchange, and a kill -9 of the primary and its workers that loses no flow a phone saw complete.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ProxyAgent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerConfig } from '../../shared/api';
import type { FlowSummary } from '../../shared/types';
import { resolveWorkers } from '../../proxy/workers/check';
import { tempDir, waitFor } from '../helpers/leakscope';
import type { Upstream } from '../helpers/upstream';
import { startCli } from '../lifecycle/cli-process';
import { startLoad } from '../lifecycle/load';
import { lateUpstream, sigtermUnderLoad, storedFlows } from '../lifecycle/stopping';

const BIN = path.resolve(__dirname, '../../bin/leakscope.js');

function run(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, LEAKSCOPE_LOG: 'silent' }, timeout: 30_000 }, (err, _stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stderr });
    });
  });
}

/** Nothing accepts on the port any more. */
const refused = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(true));
  });

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('leakscope start --workers', () => {
  it('exits 2 with one line for --workers 0, -1, x, 65 and 1.5', async () => {
    const values = ['0', '-1', 'x', '65', '1.5'];
    const runs = await Promise.all(values.map((value) => run(['start', '--data-dir', tempDir(), '--workers', value])));
    expect(runs).toEqual(values.map((value) => ({ code: 2, stderr: `leakscope: --workers ${value}: expected auto or a whole number from 1 to 64\n` })));
  });

  it('--workers auto runs one worker per core, at most 8, and one process beside another capture mode', async () => {
    expect([1, 2, 8, 16].map((cores) => resolveWorkers('auto', [], cores))).toEqual([1, 2, 8, 8]);
    expect(resolveWorkers('auto', ['transparent'], 16)).toBe(1);
    const cli = await startCli(tempDir(), ['--workers', 'auto']);
    try {
      const config = (await (await fetch(`${cli.uiUrl}api/config`)).json()) as ServerConfig;
      const expected = Math.min(os.availableParallelism(), 8);
      expect(config.workers ?? [process.pid]).toHaveLength(expected);
      if (expected > 1) await waitFor(() => new RegExp(`proxy workers +${expected} \\(pids `).test(cli.output()), 5_000, 'the workers line');
    } finally {
      cli.child.kill('SIGTERM');
      expect(await cli.exited).toBe(0);
    }
  });

  it('exits 2 with one line for --workers 2 with another capture mode', async () => {
    const r = await run(['start', '--data-dir', tempDir(), '--workers', '2', '--mode', 'transparent']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('leakscope: --workers 2: --mode transparent runs in one process only; leave out --workers or give --workers 1\n');
  });

  it('exits 2 with one line when the workers\' port is in use', async () => {
    const taken = net.createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = String((taken.address() as net.AddressInfo).port);
    try {
      const r = await run(['start', '--data-dir', tempDir(), '--proxy-host', '127.0.0.1', '--proxy-port', port, '--ui-port', '0', '--workers', '2']);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(`leakscope: --proxy-port ${port}: 127.0.0.1:${port} is already in use (another leakscope or proxy?); choose another port with --proxy-port\n`);
    } finally {
      taken.close();
    }
  });
});

describe('stopping --workers 2 under load', () => {
  let upstream: Upstream;
  let caFile: string;

  beforeAll(async () => {
    ({ upstream, caFile } = await lateUpstream());
  });

  afterAll(() => upstream?.close());

  it('SIGTERM: the workers finish or record their exchanges, then the primary stores them and exits 0', async () => {
    let pids: number[] = [];
    await sigtermUnderLoad(upstream, ['--upstream-ca', caFile, '--workers', '2'], async (cli) => {
      pids = ((await (await fetch(`${cli.uiUrl}api/config`)).json()) as ServerConfig).workers!;
      expect(pids).toHaveLength(2);
    });
    for (const pid of pids) expect(alive(pid)).toBe(false);
  }, 90_000);

  it('SIGTERM: a response whose flow waits for the primary past the grace still ends whole; a request on a kept-alive connection then goes no further', async () => {
    const dataDir = tempDir();
    const cli = await startCli(dataDir, ['--upstream-ca', caFile, '--stop-grace', '800', '--workers', '2']);
    const caPem = fs.readFileSync(path.join(dataDir, 'ca', 'certs', 'ca.pem'), 'utf8');
    const agent = new ProxyAgent({ uri: `http://127.0.0.1:${cli.proxyPort}`, requestTls: { ca: caPem } });
    // Two kept-alive HTTPS connections, one on each worker (connections are handed out in turn).
    const idle = new ProxyAgent({ uri: `http://127.0.0.1:${cli.proxyPort}`, requestTls: { ca: caPem }, connections: 2 });
    const get = (dispatcher: ProxyAgent, url: string) =>
      request(url, { dispatcher }).then(
        async (r) => ({ status: r.statusCode, body: await r.body.text() }),
        (err: Error) => ({ status: 0, body: err.message }),
      );
    expect(await Promise.all([get(idle, `${upstream.url}/slow/warm-1`), get(idle, `${upstream.url}/slow/warm-2`)])).toEqual([
      { status: 200, body: 'ok /slow/warm-1' },
      { status: 200, body: 'ok /slow/warm-2' },
    ]);
    const url = `${upstream.url}/slow/held`;
    const slow = get(agent, url);
    await waitFor(() => upstream.received.some((r) => r.url === '/slow/held'), 10_000, 'the exchange begun');
    cli.child.kill('SIGTERM');
    // The workers have stopped listening (they got the stop) before the upstream answers, 400 ms after the request.
    await waitFor(() => refused(cli.proxyPort), 5_000, 'the workers stopped listening');
    // The primary frozen while the worker holds the response's last byte for it and the grace runs out.
    process.kill(cli.child.pid!, 'SIGSTOP');
    // Well past the grace (800 ms), well inside the 5 s the held answer keeps its worker's connections for:
    // requests on the kept-alive ones.
    await new Promise((r) => setTimeout(r, 2500));
    const late = Promise.all([get(idle, `${upstream.url}/fast/late-1`), get(idle, `${upstream.url}/fast/late-2`)]);
    await new Promise((r) => setTimeout(r, 600));
    process.kill(cli.child.pid!, 'SIGCONT');
    expect(await cli.exited, cli.output()).toBe(0);
    expect(await slow).toEqual({ status: 200, body: `ok /slow/held` });
    for (const answer of await late) expect(answer.status).toBe(0);
    await Promise.all([agent.destroy(), idle.destroy()]);
    expect(upstream.received.filter((r) => r.url.startsWith('/fast/late'))).toEqual([]);
    const stored = storedFlows(dataDir, '/slow/held');
    expect(stored.get(url)).toMatchObject({ status: 200, error: undefined });
    const lateFlows = [...storedFlows(dataDir, '/fast/late').values()];
    expect(lateFlows.length).toBeGreaterThan(0);
    // Its flow says what the phone got: no answer, its connection cut (not a made-up 502).
    for (const flow of lateFlows) expect(flow).toEqual({ status: null, error: expect.stringMatching(/^interrupted/) });
  }, 60_000);

  it('SIGKILL of the primary and both workers: after a restart every flow whose response had completed is in the database', async () => {
    const dataDir = tempDir();
    const cli = await startCli(dataDir, ['--upstream-ca', caFile, '--workers', '2']);
    const pids = ((await (await fetch(`${cli.uiUrl}api/config`)).json()) as ServerConfig).workers!;
    const caPem = fs.readFileSync(path.join(dataDir, 'ca', 'certs', 'ca.pem'), 'utf8');
    const load = startLoad({ proxyPort: cli.proxyPort, caPem, base: `${upstream.url}/kill`, workers: 8, limit: 3000 });
    await waitFor(() => load.completed.size >= 150, 20_000, '150 completed responses');
    // The primary frozen first: the workers keep serving kept-alive connections, and a response whose flow it
    // has not stored must not end meanwhile. Then the whole group at once, as a crash or `kill -9 -PGID` would.
    process.kill(cli.child.pid!, 'SIGSTOP');
    await new Promise((r) => setTimeout(r, 500));
    for (const pid of [cli.child.pid!, ...pids]) process.kill(pid, 'SIGKILL');
    const seenComplete = new Set(load.completed.keys());
    expect(await cli.exited).toBe('SIGKILL');
    load.stop();
    await load.done;
    await waitFor(() => pids.every((pid) => !alive(pid)), 10_000, 'the workers gone');

    const restarted = await startCli(dataDir, ['--upstream-ca', caFile, '--workers', '2']);
    try {
      const flows = (await (await fetch(`${restarted.uiUrl}api/flows?limit=5000&q=/kill/`)).json()) as FlowSummary[];
      const urls = new Set(flows.map((f) => f.url));
      expect([...seenComplete].filter((url) => !urls.has(url))).toEqual([]);
    } finally {
      restarted.child.kill('SIGINT');
      expect(await restarted.exited).toBe(0);
    }
  }, 90_000);
});
