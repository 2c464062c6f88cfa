// `start --workers N`: requests a second through one proxy process and through two workers behind one port, and
// the CPU the proxy's processes (the primary and its workers) spend per request, from /proc/PID/stat. On a
// 2-core machine the load generator and the upstream share the cores with the proxy, so req/s alone says little
// about a bigger machine; CPU per request, split between the primary (one core at most: it stores every flow)
// and the workers (as many cores as there are workers), is what an estimate for a lab server starts from.
// Alone: `node --import tsx bench/workers.ts` (BENCH_SECONDS, BENCH_CONNECTIONS as for the whole bench).
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { ServerConfig } from '../shared/api';
import { dispatcher, runLoad, type LoadResult } from './load';
import { startLeakscope, startUpstream, type Started, type Upstream } from './processes';
import { fmt, type Say } from './proxies';

/** USER_HZ: what /proc/PID/stat counts CPU time in on Linux. */
const TICKS_PER_SECOND = 100;

/** CPU time (user + system) a process has used, in ms; with `mainThread`, only its JavaScript thread's. */
function cpuMs(pid: number, mainThread = false): number {
  const stat = fs.readFileSync(mainThread ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces; the fields after its closing parenthesis are fixed.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}

export interface WorkersRun {
  workers: number;
  load: LoadResult;
  /** CPU ms per request: the primary's (for one process, the whole proxy), the workers' together */
  primaryMs: number;
  workersMs: number;
  /** of `primaryMs`, its JavaScript thread's (the rest: the full-text index's thread, libuv's pool) */
  primaryThreadMs: number;
}

async function measure(upstream: Upstream, workers: number, connections: number, seconds: number, track: <T extends Started>(p: T) => T): Promise<WorkersRun> {
  const proxy = track(await startLeakscope(upstream.caFile, ['--workers', String(workers)]));
  try {
    const config = (await (await fetch(`${proxy.uiUrl}api/config`)).json()) as ServerConfig;
    const workerPids = config.workers ?? [];
    const d = dispatcher(proxy.caPem, connections, proxy.port);
    const url = `https://127.0.0.1:${upstream.port}/small`;
    // Connections, TLS sessions, certificates and every worker's code warm before the CPU is counted.
    await runLoad({ dispatcher: d, url, connections, durationMs: 1000, warmupMs: 0 });
    const primaryBefore = cpuMs(proxy.child.pid!);
    const threadBefore = cpuMs(proxy.child.pid!, true);
    const workersBefore = workerPids.reduce((n, pid) => n + cpuMs(pid), 0);
    const load = await runLoad({ dispatcher: d, url, connections, durationMs: seconds * 1000, warmupMs: 0 });
    const primaryMs = (cpuMs(proxy.child.pid!) - primaryBefore) / load.requests;
    const primaryThreadMs = (cpuMs(proxy.child.pid!, true) - threadBefore) / load.requests;
    const workersMs = (workerPids.reduce((n, pid) => n + cpuMs(pid), 0) - workersBefore) / load.requests;
    await d.close();
    return { workers, load, primaryMs, workersMs, primaryThreadMs };
  } finally {
    await proxy.stop();
  }
}

export async function benchWorkers(connections: number, seconds: number, say: Say): Promise<WorkersRun[]> {
  const running: Started[] = [];
  const track = <T extends Started>(p: T): T => (running.push(p), p);
  try {
    const upstream = track(await startUpstream());
    const one = await measure(upstream, 1, connections, seconds, track);
    const two = await measure(upstream, 2, connections, seconds, track);
    const total = (r: WorkersRun) => r.primaryMs + r.workersMs;
    say(`--workers 1  ${fmt(one.load)}  proxy CPU ${total(one).toFixed(3)} ms/request`);
    say(`--workers 2  ${fmt(two.load)}  proxy CPU ${total(two).toFixed(3)} ms/request (primary ${two.primaryMs.toFixed(3)}, of it its JavaScript thread ${two.primaryThreadMs.toFixed(3)}; workers ${two.workersMs.toFixed(3)})`);
    say(`--workers 2 / --workers 1: ${(two.load.rps / one.load.rps).toFixed(2)}× req/s, ${(total(two) / total(one)).toFixed(2)}× CPU per request`);
    // The workers spread over the cores; the primary's JavaScript thread, which takes every flow, is one core.
    const cores = 16;
    const bound = Math.min((cores * 1000) / total(two), 1000 / two.primaryThreadMs);
    say(`a ${cores}-core machine (load elsewhere), from these CPU figures: about ${Math.round(bound).toLocaleString('en')} req/s ` +
      `(${cores} cores ÷ ${total(two).toFixed(3)} ms = ${Math.round((cores * 1000) / total(two)).toLocaleString('en')}; the primary's thread caps it at 1 ÷ ${two.primaryThreadMs.toFixed(3)} ms = ${Math.round(1000 / two.primaryThreadMs).toLocaleString('en')})`);
    return [one, two];
  } finally {
    await Promise.all(running.map((p) => p.stop()));
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await benchWorkers(Number(process.env.BENCH_CONNECTIONS ?? 16), Number(process.env.BENCH_SECONDS ?? 8), (line = '') => process.stdout.write(line + '\n'));
}
