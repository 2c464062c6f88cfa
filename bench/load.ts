// A bounded load generator: a fixed number of workers, each a loop of sequential requests, for a fixed time.
// The same code drives every configuration (direct, leakscope, mitmdump, mockttp) so the numbers compare:
// autocannon cannot tunnel HTTPS through an HTTP proxy (CONNECT), undici's ProxyAgent can. HTTP/2 is Node's
// http2 client over a CONNECT tunnel, offering only h2, several streams at once on each session.
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { Agent, ProxyAgent, request, type Dispatcher } from 'undici';
import { quantile } from './stats';

export interface LoadResult {
  requests: number;
  errors: number;
  rps: number;
  p50: number;
  p99: number;
}

/**
 * What a client trusts: a CA, and with `anyName` a certificate from it for another name than the address dialled
 * (mockttp mints certificates for DNS names only, so none of its certificates names 127.0.0.1).
 */
export interface Trust {
  ca: string;
  anyName?: boolean;
}

function tlsOptions(trust: string | Trust): tls.ConnectionOptions {
  const { ca, anyName } = typeof trust === 'string' ? { ca: trust } : trust;
  return anyName ? { ca, checkServerIdentity: () => undefined } : { ca };
}

/** A dispatcher trusting `trust`, through the proxy at proxyHost:proxyPort when a port is given. */
export function dispatcher(trust: string | Trust, connections: number, proxyPort?: number, proxyHost = '127.0.0.1'): Dispatcher {
  if (proxyPort === undefined) return new Agent({ connect: tlsOptions(trust), connections });
  return new ProxyAgent({ uri: `http://${proxyHost}:${proxyPort}`, requestTls: tlsOptions(trust), connections });
}

// Each request is bounded too, so a phase ends at most this long after its time is up.
const REQUEST_LIMIT_MS = 15_000;

/** Runs `once` in `workers` parallel loops: a warm-up, then `durationMs` measured. `once` says whether it succeeded. */
async function measure(once: (worker: number) => Promise<boolean>, workers: number, durationMs: number, warmupMs = 1000): Promise<LoadResult> {
  const phase = async (ms: number, record: boolean) => {
    const latencies: number[] = [];
    let errors = 0;
    const end = performance.now() + ms;
    await Promise.all(
      Array.from({ length: workers }, async (_, worker) => {
        while (performance.now() < end) {
          const t = performance.now();
          const ok = await once(worker);
          if (!record) continue;
          if (ok) latencies.push(performance.now() - t);
          else errors++;
        }
      }),
    );
    return { latencies, errors };
  };
  await phase(warmupMs, false); // connections, TLS sessions and certificates in place
  const started = performance.now();
  const { latencies, errors } = await phase(durationMs, true);
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { requests: latencies.length, errors, rps: latencies.length / seconds, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) };
}

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
  return measure(once, opts.connections, opts.durationMs, opts.warmupMs);
}

/** A CONNECT tunnel to 127.0.0.1:port through the proxy, resolved once the proxy answered 200. */
function tunnel(proxyPort: number, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(proxyPort, '127.0.0.1', () => socket.write(`CONNECT 127.0.0.1:${port} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`));
    const timer = setTimeout(() => (socket.destroy(), reject(new Error('CONNECT: no answer in 10 s'))), 10_000);
    let head = '';
    const onData = (c: Buffer) => {
      head += c.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      clearTimeout(timer);
      if (/^HTTP\/1\.[01] 200/.test(head)) resolve(socket);
      else (socket.destroy(), reject(new Error(`CONNECT refused: ${head.split('\r\n')[0]}`)));
    };
    socket.on('data', onData);
    socket.once('error', (e) => (clearTimeout(timer), reject(e)));
  });
}

/** An h2 session to https://127.0.0.1:port trusting `trust`, through the proxy when a port is given; fails unless h2 was agreed. */
async function h2Session(trust: Trust, port: number, proxyPort?: number): Promise<http2.ClientHttp2Session> {
  const socket = proxyPort === undefined ? undefined : await tunnel(proxyPort, port);
  const secure = tls.connect({ socket, host: '127.0.0.1', port, ...tlsOptions(trust), ALPNProtocols: ['h2'] });
  await new Promise((resolve, reject) => secure.once('secureConnect', resolve).once('error', reject));
  if (secure.alpnProtocol !== 'h2') {
    secure.destroy();
    throw new Error(`the ${proxyPort === undefined ? 'server' : 'proxy'} did not agree to h2 (ALPN: ${secure.alpnProtocol || 'none'})`);
  }
  const session = http2.connect(`https://127.0.0.1:${port}`, { createConnection: () => secure });
  session.on('error', () => {}); // a broken session shows as failed requests
  return session;
}

/** One GET on an h2 session, bounded; true on a 200 with its whole body read. */
function h2Get(session: http2.ClientHttp2Session, path: string): Promise<boolean> {
  return new Promise((resolve) => {
    let status = 0;
    const stream = session.request({ ':method': 'GET', ':path': path }, { endStream: true, signal: AbortSignal.timeout(REQUEST_LIMIT_MS) });
    stream.on('response', (h) => (status = Number(h[':status'])));
    stream.on('data', () => {});
    stream.once('end', () => resolve(status === 200));
    stream.once('error', () => resolve(false));
    stream.once('close', () => resolve(false)); // reset with no error: no-op after 'end'
  });
}

/** `sessions` h2 connections, `streams` requests in flight on each, for `durationMs` after a warm-up. */
export async function runH2Load(opts: { trust: Trust; port: number; proxyPort?: number; path: string; sessions: number; streams: number; durationMs: number }): Promise<LoadResult> {
  const sessions = await Promise.all(Array.from({ length: opts.sessions }, () => h2Session(opts.trust, opts.port, opts.proxyPort)));
  try {
    return await measure((worker) => h2Get(sessions[worker % sessions.length], opts.path), opts.sessions * opts.streams, opts.durationMs);
  } finally {
    for (const s of sessions) s.destroy();
  }
}
