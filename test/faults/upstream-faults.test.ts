// Misbehaving upstreams: the phone gets a 502/504 with a plain-text reason (or a cut connection once the
// response has begun), the flow records the error, and a concurrent well-behaved phone is unaffected.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { curl, proxyInFrontOfUpstream, waitFor } from '../helpers/leakscope';
import { withBystander } from './bystander';

const UPSTREAM_TIMEOUT = 700;

/** A TCP server on 127.0.0.1 that treats every connection with `behave`. */
async function rawUpstream(behave: (socket: net.Socket) => void): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    behave(socket);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

async function closedPortUrl(): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

/** Reads headers, then answers with the start of a 100 kB body and resets the connection. */
function resetMidResponse(socket: net.Socket): void {
  socket.once('data', () => {
    socket.write('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 100000\r\n\r\n' + 'x'.repeat(1000));
    setTimeout(() => socket.resetAndDestroy(), 50);
  });
}

describe('upstream faults', () => {
  const env = proxyInFrontOfUpstream({ upstreamTimeout: UPSTREAM_TIMEOUT });

  const viaProxy = (url: string) => curl(['-x', `http://127.0.0.1:${env.app.proxyPort}`, '--cacert', env.app.caFile, '-w', '%{http_code}', url]);
  const flowError = async (needle: string) => {
    const summary = await waitFor(() => env.app.store.summaries({ q: needle })[0], 3000, `flow ${needle}`);
    return env.app.store.get(summary.id)?.error;
  };

  type Make = () => Promise<string | { url: string; close(): Promise<void> }>;
  it.each<[string, Make, number, RegExp]>([
    ['refuses connections', () => closedPortUrl(), 502, /refused the connection/],
    ['never answers', () => rawUpstream(() => {}), 504, /did not answer in time/],
    ['sends garbage', () => rawUpstream((s) => s.once('data', () => s.end('garbage, not HTTP\r\n\r\n'))), 502, /malformed HTTP response/],
    ['does not resolve (DNS)', async () => 'http://no-such-host.leakscope-test.invalid', 502, /DNS lookup failed/],
  ])('when the upstream %s the phone gets a text 5xx and the flow an error', async (_label, make, status, reason) => {
    const made = await make();
    const base = typeof made === 'string' ? made : made.url;
    const path = `/fault-${status}-${Date.now()}`;
    try {
      const r = await withBystander(env.app, env.upstream, () => viaProxy(`${base}${path}`));
      const out = r.stdout.toString();
      const body = out.slice(0, -3);
      expect(Number(out.slice(-3))).toBe(status);
      expect(body).toMatch(reason);
      expect(await flowError(path)).toMatch(reason);
    } finally {
      if (typeof made !== 'string') await made.close();
    }
  });

  it('answers 504 when an HTTPS upstream accepts the connection and then stays silent', async () => {
    // TLS never completes: the proxy must still give up after upstreamTimeout.
    const silent = await rawUpstream(() => {});
    const path = `/silent-tls-${Date.now()}`;
    try {
      const r = await withBystander(env.app, env.upstream, () => viaProxy(`${silent.url.replace('http:', 'https:')}${path}`));
      expect(r.stdout.toString()).toMatch(/did not answer in time\n504$/);
      expect(await flowError(path)).toMatch(/did not answer in time/);
    } finally {
      await silent.close();
    }
  });

  it('cuts the phone when the upstream resets mid-response, and records why', async () => {
    const resetting = await rawUpstream(resetMidResponse);
    const path = `/reset-${Date.now()}`;
    try {
      const r = await withBystander(env.app, env.upstream, () => viaProxy(`${resetting.url}${path}`));
      expect(r.code).not.toBe(0); // curl saw a transfer cut short
      expect(await flowError(path)).toMatch(/mid-response/);
      const [summary] = env.app.store.summaries({ q: path });
      expect(env.app.store.get(summary.id)?.status).toBe(200);
    } finally {
      await resetting.close();
    }
  });
});
