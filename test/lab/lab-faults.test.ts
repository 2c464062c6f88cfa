// A lab as testers run it, from the CLI: two `start --store` instances and one `dashboard --store` node over a real
// PostgreSQL (a throwaway cluster). A killed instance loses none of its completed flows; PostgreSQL stopped under
// load loses none either: they wait in the instance's outbox on its disk, the dashboard says so, and they are
// written when it returns.
import fs from 'node:fs';
import path from 'node:path';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoreStatus, StoreStatusResponse } from '../../shared/api';
import type { FlowSummary } from '../../shared/types';
import { curl, tempDir, waitFor } from '../helpers/leakscope';
import { postgresForTests } from '../helpers/postgres';
import { startUpstream, type Upstream } from '../helpers/upstream';
import { startCli, startDashboardCli, type CliProcess } from '../lifecycle/cli-process';
import { startLoad } from '../lifecycle/load';

const IMEI = '865123456789012';

describe('a lab from the CLI: two instances, one dashboard node, faults', () => {
  const env = postgresForTests();
  let upstream: Upstream;
  let url: string;
  let caFile: string;
  const instances: Record<string, { cli: CliProcess; caPem: string; caFile: string; dataDir: string; args: string[] }> = {};
  let node: Awaited<ReturnType<typeof startDashboardCli>>;

  beforeAll(async () => {
    upstream = await startUpstream();
    url = env.pg.createDatabase('lab_faults');
    const dir = tempDir();
    caFile = path.join(dir, 'upstream-ca.pem');
    fs.writeFileSync(caFile, upstream.caPem);
    const identifiers = path.join(dir, 'identifiers.json');
    fs.writeFileSync(identifiers, JSON.stringify({ devices: [{ name: 'Lab phone', imei: [IMEI] }] }));
    await Promise.all(
      ['rack-a', 'rack-b'].map(async (instance) => {
        const dataDir = tempDir();
        const args = ['--upstream-ca', caFile, '--store', url, '--instance', instance, '--identifiers', identifiers, '--session', 'faults'];
        const cli = await startCli(dataDir, args);
        instances[instance] = { cli, dataDir, args, caFile: path.join(dataDir, 'ca', 'certs', 'ca.pem'), caPem: fs.readFileSync(path.join(dataDir, 'ca', 'certs', 'ca.pem'), 'utf8') };
      }),
    );
    node = await startDashboardCli(url);
  }, 120_000);
  afterAll(async () => {
    for (const p of [node, ...Object.values(instances).map((i) => i.cli)]) {
      if (p && p.child.exitCode === null && p.child.signalCode === null) {
        p.child.kill('SIGINT');
        await p.exited;
      }
    }
    await upstream?.close();
  });

  const storedUrls = (instance: string, prefix: string) =>
    new Set(env.pg.query('lab_faults', `SELECT url FROM flows WHERE instance = '${instance}' AND url LIKE '${prefix}%'`).split('\n').filter(Boolean));
  const storedCount = (instance: string, prefix: string) =>
    Number(env.pg.query('lab_faults', `SELECT count(*) FROM flows WHERE instance = '${instance}' AND url LIKE '${prefix}%'`));

  it('shows flagged requests through both instances in the dashboard node, live and in its API, each with its instance', async () => {
    const socket = io(node.uiUrl, { auth: { after: 0 }, transports: ['websocket'], reconnection: false });
    const live: FlowSummary[] = [];
    socket.on('flow', (f: FlowSummary) => live.push(f));
    try {
      await new Promise<void>((resolve, reject) => (socket.once('connect', () => resolve()), socket.once('connect_error', reject)));
      for (const [instance, { cli, caFile: ca }] of Object.entries(instances)) {
        const r = await curl(['-x', `http://127.0.0.1:${cli.proxyPort}`, '--cacert', ca, `${upstream.url}/cli?imei=${IMEI}&via=${instance}`]);
        expect(r.code).toBe(0);
      }
      await waitFor(() => live.filter((f) => f.url.includes('/cli?')).length === 2, 10_000, 'both flows on the node\'s live feed');
      expect(live.map((f) => [f.instance, f.findings.map((x) => x.type)]).sort()).toEqual([['rack-a', ['imei']], ['rack-b', ['imei']]]);
      const flagged = (await (await fetch(`${node.uiUrl}api/flows?flagged=1`)).json()) as FlowSummary[];
      expect(flagged.map((f) => f.instance).sort()).toEqual(['rack-a', 'rack-b']);
    } finally {
      socket.close();
    }
  });

  it('SIGKILL of one instance under load: every response it completed is in PostgreSQL', async () => {
    const { cli, caPem } = instances['rack-a'];
    const base = `${upstream.url}/kill`;
    const load = startLoad({ proxyPort: cli.proxyPort, caPem, base, workers: 8, limit: 2000 });
    await waitFor(() => load.completed.size >= 150, 20_000, '150 completed responses');
    cli.child.kill('SIGKILL');
    const seen = new Set(load.completed.keys());
    expect(await cli.exited).toBe('SIGKILL');
    load.stop();
    await load.done;
    const stored = storedUrls('rack-a', `${base}/`);
    expect([...seen].filter((u) => !stored.has(u))).toEqual([]);
  });

  it('PostgreSQL stopped under load: the instance keeps serving, says so, and writes every flow when it returns', async () => {
    const { cli, caPem } = instances['rack-b'];
    const statuses: StoreStatus[] = [];
    const socket = io(cli.uiUrl, { transports: ['websocket'] });
    socket.on('store-status', (s: StoreStatus) => statuses.push(s));
    const status = async () => ((await (await fetch(`${cli.uiUrl}api/store-status`)).json()) as StoreStatusResponse).shared;
    const nodeStatus = async () => ((await (await fetch(`${node.uiUrl}api/store-status`)).json()) as StoreStatusResponse).shared;
    const base = `${upstream.url}/gap`;
    const load = startLoad({ proxyPort: cli.proxyPort, caPem, base, workers: 4, limit: 1000 });
    try {
      await waitFor(() => load.completed.size >= 100, 20_000, '100 completed responses');
      env.pg.pause();
      const atStop = load.completed.size;
      // The phones are still answered while the database is away, and the instance says their flows wait.
      await waitFor(() => load.completed.size >= atStop + 50, 30_000, '50 more responses with PostgreSQL down');
      const down = await waitFor(async () => {
        const s = await status();
        return s && !s.reachable && (s.queued ?? 0) > 0 ? s : undefined;
      }, 10_000, 'the instance to say the store is unreachable');
      expect(down.since).toBeTypeOf('number');
      await waitFor(() => statuses.some((s) => !s.reachable), 5000, 'a store-status event on the socket');
      await waitFor(async () => (await nodeStatus())?.reachable === false, 10_000, 'the dashboard node to say so too');
      env.pg.resume();
      await waitFor(async () => {
        const s = await status();
        return s?.reachable === true && s.queued === 0;
      }, 30_000, 'the queue written to PostgreSQL');
      load.stop();
      await load.done;
      // Every response the client got is in PostgreSQL (a flow is stored before its response ends), once each.
      const completed = new Set(load.completed.keys());
      const stored = storedUrls('rack-b', `${base}/`);
      expect([...completed].filter((u) => !stored.has(u))).toEqual([]);
      expect(storedCount('rack-b', `${base}/`)).toBe(stored.size);
      expect(stored.size).toBe(completed.size);
      expect(statuses.at(-1)).toMatchObject({ reachable: true, queued: 0 });
      await waitFor(async () => (await nodeStatus())?.reachable === true, 10_000, 'the dashboard node back');
    } finally {
      load.stop();
      socket.close();
    }
  }, 180_000);

  it('stopped while PostgreSQL is away: exits at once, and the next start writes what waited in the outbox', async () => {
    const rack = instances['rack-b'];
    const flowUrl = `${upstream.url}/away?imei=${IMEI}`;
    env.pg.pause();
    try {
      const r = await curl(['-x', `http://127.0.0.1:${rack.cli.proxyPort}`, '--cacert', rack.caFile, flowUrl]);
      expect(r.code).toBe(0);
      await waitFor(async () => {
        const s = ((await (await fetch(`${rack.cli.uiUrl}api/store-status`)).json()) as StoreStatusResponse).shared;
        return s && !s.reachable && (s.queued ?? 0) > 0;
      }, 10_000, 'the flow waiting in the outbox');
      // The mirror is between two tries at the shared store here: the stop must not wait for one that never comes.
      rack.cli.child.kill('SIGINT');
      let late: NodeJS.Timeout | undefined;
      const code = await Promise.race([rack.cli.exited, new Promise((resolve) => (late = setTimeout(() => resolve('still running after 20 s'), 20_000)))]);
      clearTimeout(late);
      expect(code).toBe(0);
    } finally {
      env.pg.resume();
    }
    expect(storedCount('rack-b', flowUrl)).toBe(0);
    rack.cli = await startCli(rack.dataDir, rack.args);
    await waitFor(() => storedCount('rack-b', flowUrl) === 1, 20_000, 'the waiting flow in PostgreSQL after the restart');
  }, 60_000);
});
