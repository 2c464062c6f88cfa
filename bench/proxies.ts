// The proxy comparison of `npm run bench`: HTTPS 1 KiB and 1 MiB over HTTP/1.1, and 1 KiB over HTTP/2, each
// direct, through leakscope and through its peers (mitmdump, mockttp) in the same run, with the ratios printed.
// Alone: `node --import tsx bench/proxies.ts` (BENCH_SECONDS, BENCH_CONNECTIONS as for the whole bench).
import { pathToFileURL } from 'node:url';
import { dispatcher, runH2Load, runLoad, type LoadResult, type Trust } from './load';
import { mitmdumpInstalled, startLeakscope, startMitmdump, startMockttp, startUpstream, type Started, type Upstream } from './processes';

export interface Proxy {
  port: number;
  caPem: string;
}

export interface Peers {
  upstream: Upstream;
  leakscope: Started & Proxy;
  mitmdump?: Started & Proxy;
  mockttp: Started & Proxy;
}

export type Say = (line?: string) => void;

/** Every process the comparison needs, each handed to `track` so the caller stops it. */
export async function startPeers(track: <T extends Started>(p: T) => T, say: Say): Promise<Peers> {
  const upstream = track(await startUpstream());
  const leakscope = track(await startLeakscope(upstream.caFile));
  const mitmdump = mitmdumpInstalled() ? track(await startMitmdump(upstream.caFile)) : undefined;
  if (!mitmdump) say('mitmdump is not installed (Debian package mitmproxy): its column is skipped');
  const mockttp = track(await startMockttp(upstream.caFile));
  return { upstream, leakscope, mitmdump, mockttp };
}

export const fmt = (r: LoadResult) =>
  `${r.rps.toFixed(0).padStart(7)} req/s  p50 ${r.p50.toFixed(1).padStart(6)} ms  p99 ${r.p99.toFixed(1).padStart(6)} ms  (${r.requests} ok, ${r.errors} errors)`;

/** Each configuration: its name, the proxy port (none: direct) and what the client trusts. */
function configurations(peers: Peers): [string, number | undefined, Trust][] {
  const proxied = (name: string, p: Proxy, anyName = false): [string, number, Trust] => [name, p.port, { ca: p.caPem, anyName }];
  return [
    ['direct', undefined, { ca: peers.upstream.caPem }],
    proxied('leakscope', peers.leakscope),
    ...(peers.mitmdump ? [proxied('mitmdump', peers.mitmdump)] : []),
    proxied('mockttp', peers.mockttp, true),
  ];
}

/** leakscope against direct and each peer measured: throughput ratio, and p99 beside the peer's. */
function ratios(results: Record<string, LoadResult>): string {
  const ours = results.leakscope;
  const parts = [`leakscope/direct ${(ours.rps / results.direct.rps).toFixed(2)}× req/s`];
  for (const peer of ['mitmdump', 'mockttp']) {
    const r = results[peer];
    if (r) parts.push(`leakscope/${peer} ${(ours.rps / r.rps).toFixed(2)}× req/s, p99 ${ours.p99.toFixed(1)} vs ${r.p99.toFixed(1)} ms`);
  }
  return parts.join('   ');
}

const SIZES = { small: '1 KiB', large: '1 MiB' } as const;
const H2_SESSIONS = 4;

export async function benchProxies(peers: Peers, connections: number, seconds: number, say: Say): Promise<void> {
  const base = `https://127.0.0.1:${peers.upstream.port}`;
  for (const size of ['small', 'large'] as const) {
    const results: Record<string, LoadResult> = {};
    for (const [name, proxyPort, trust] of configurations(peers)) {
      const d = dispatcher(trust, connections, proxyPort);
      results[name] = await runLoad({ dispatcher: d, url: `${base}/${size}`, connections, durationMs: seconds * 1000 });
      await d.close();
      say(`${SIZES[size]}  ${name.padEnd(9)} ${fmt(results[name])}`);
    }
    say(`${SIZES[size]}  ${ratios(results)}`);
  }
  say('(mockttp mints certificates for DNS names only, none for 127.0.0.1: its client checks the chain to its CA, not the name)');

  const streams = Math.max(1, Math.round(connections / H2_SESSIONS));
  say(`HTTP/2, 1 KiB: ${H2_SESSIONS} h2 sessions × ${streams} streams in flight, each through its own CONNECT tunnel, to an h2 upstream`);
  const results: Record<string, LoadResult> = {};
  for (const [name, proxyPort, trust] of configurations(peers)) {
    try {
      results[name] = await runH2Load({ trust, port: peers.upstream.h2, proxyPort, path: '/small', sessions: H2_SESSIONS, streams, durationMs: seconds * 1000 });
      say(`h2     ${name.padEnd(9)} ${fmt(results[name])}`);
    } catch (e) {
      say(`h2     ${name.padEnd(9)} skipped: ${(e as Error).message}`);
    }
  }
  if (results.direct && results.leakscope) say(`h2     ${ratios(results)}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const running: Started[] = [];
  const say: Say = (line = '') => process.stdout.write(line + '\n');
  try {
    const peers = await startPeers((p) => (running.push(p), p), say);
    await benchProxies(peers, Number(process.env.BENCH_CONNECTIONS ?? 16), Number(process.env.BENCH_SECONDS ?? 8), say);
  } finally {
    await Promise.all(running.map((p) => p.stop()));
  }
}
