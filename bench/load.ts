// A bounded load generator: a fixed number of connections, each a loop of sequential requests, for a fixed
// time. The same code drives every configuration (direct, leakscope, mitmdump) so the numbers compare:
// autocannon cannot tunnel HTTPS through an HTTP proxy (CONNECT), undici's ProxyAgent can.
import { Agent, ProxyAgent, request, type Dispatcher } from 'undici';
import { quantile } from './stats';

export interface LoadResult {
  requests: number;
  errors: number;
  rps: number;
  p50: number;
  p99: number;
}

/** A dispatcher trusting `ca`, through the proxy at proxyHost:proxyPort when a port is given. */
export function dispatcher(ca: string, connections: number, proxyPort?: number, proxyHost = '127.0.0.1'): Dispatcher {
  if (proxyPort === undefined) return new Agent({ connect: { ca }, connections });
  return new ProxyAgent({ uri: `http://${proxyHost}:${proxyPort}`, requestTls: { ca }, connections });
}

// Each request is bounded too, so a phase ends at most this long after its time is up.
const REQUEST_LIMIT_MS = 15_000;

export async function runLoad(opts: { dispatcher: Dispatcher; url: string; connections: number; durationMs: number; warmupMs?: number }): Promise<LoadResult> {
  const once = async (): Promise<boolean> => {
    try {
      const res = await request(opts.url, { dispatcher: opts.dispatcher, headersTimeout: 10_000, bodyTimeout: 10_000, signal: AbortSignal.timeout(REQUEST_LIMIT_MS) });
      await res.body.dump({ limit: Infinity });
      return res.statusCode === 200;
    } catch {
      return false;
    }
  };
  const phase = async (ms: number, record: boolean) => {
    const latencies: number[] = [];
    let errors = 0;
    const end = performance.now() + ms;
    await Promise.all(
      Array.from({ length: opts.connections }, async () => {
        while (performance.now() < end) {
          const t = performance.now();
          const ok = await once();
          if (!record) continue;
          if (ok) latencies.push(performance.now() - t);
          else errors++;
        }
      }),
    );
    return { latencies, errors };
  };
  await phase(opts.warmupMs ?? 1000, false); // connections, TLS sessions and certificates in place
  const started = performance.now();
  const { latencies, errors } = await phase(opts.durationMs, true);
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { requests: latencies.length, errors, rps: latencies.length / seconds, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) };
}
