// Misbehaving phones: each fault is answered or cut, and a concurrent well-behaved phone is unaffected.
import { readdir, writeFile } from 'node:fs/promises';
import type net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { io } from 'socket.io-client';
import { describe, expect, it } from 'vitest';
import { FINDINGS_PER_SCAN, SCAN_CAPPED_TAG } from '../../proxy/detect/analyze';
import type { TlsErrorEvent } from '../../shared/types';
import { curl, proxyInFrontOfUpstream, tempDir, waitFor } from '../helpers/leakscope';
import { startUpstream } from '../helpers/upstream';
import { withBystander } from './bystander';
import { collect, connect, exchange, tunnel } from './raw';

const HEADERS_TIMEOUT = 600;

/** One header byte every 50 ms: never idle, never done. Bounded: stops with the socket or after 6 s. */
async function trickle(socket: net.Socket): Promise<Awaited<ReturnType<typeof collect>> & { elapsed: number }> {
  const drip = setInterval(() => socket.writable && socket.write('X'), 50);
  const started = Date.now();
  const result = await collect(socket, 6000);
  clearInterval(drip);
  return { ...result, elapsed: Date.now() - started };
}

describe('client faults', () => {
  const env = proxyInFrontOfUpstream({ headersTimeout: HEADERS_TIMEOUT });

  it.each([
    ['a garbage request line', 'GARBAGE\r\n\r\n'],
    ['a request line with no version', `GET ${'x'.repeat(50)}\r\n\r\n`],
    ['a header without a colon', `GET http://127.0.0.1:${1}/ HTTP/1.1\r\nHost: a\r\nNo colon here\r\n\r\n`],
    ['a header with a control character', 'GET http://127.0.0.1/ HTTP/1.1\r\nHost: a\r\nX-Bad: a\x01b\r\n\r\n'],
    ['binary noise', Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 37) % 256))],
    ['80 KiB of headers', `GET http://127.0.0.1/ HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(80 * 1024)}\r\n\r\n`],
  ])('answers %s with a 4xx and closes', async (_label, bytes) => {
    const r = await withBystander(env.app, env.upstream, () => exchange(env.app.proxyPort, bytes));
    expect(r.data).toMatch(/^HTTP\/1\.1 4\d\d /);
    expect(r.closed).toBe(true);
  });

  it.each(['a/b:443', '127.0.0.1:99999', ':443', '127.0.0.1:0', 'host', `${'a'.repeat(300)}:443`])(
    'refuses CONNECT %s with 400',
    async (target) => {
      const r = await withBystander(env.app, env.upstream, () => exchange(env.app.proxyPort, `CONNECT ${target} HTTP/1.1\r\nHost: x\r\n\r\n`));
      expect(r.data).toMatch(/^HTTP\/1\.1 400 /);
      expect(r.closed).toBe(true);
    },
  );

  it('answers a CONNECT to a port nobody listens on with a 502 once the request comes', async () => {
    const r = await withBystander(env.app, env.upstream, () =>
      curl(['-x', `http://127.0.0.1:${env.app.proxyPort}`, '--cacert', env.app.caFile, '-w', '%{http_code}', 'https://127.0.0.1:1/closed-port']),
    );
    expect(r.stdout.toString()).toMatch(/refused the connection\n502$/);
  });

  it.each([
    ['plain text', Buffer.from('this is not TLS at all\r\n\r\n')],
    ['a TLS record header followed by noise', Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x00, 0x40]), Buffer.alloc(64, 0xee)])],
  ])('closes a tunnel that carries %s instead of a ClientHello once the other end gives up (relayed raw, or a failed handshake)', async (_label, bytes) => {
    const r = await withBystander(env.app, env.upstream, async () => {
      const socket = await tunnel(env.app.proxyPort, `127.0.0.1:${env.upstream.port}`);
      socket.write(bytes);
      return collect(socket, 3000);
    });
    expect(r.closed).toBe(true);
  });

  it('relays a tunnel that starts with an SSLv2-style hello raw (here to a name that does not resolve), and mints nothing for its host', async () => {
    const host = `sslv2-${Date.now()}.example`;
    const r = await withBystander(env.app, env.upstream, async () => {
      const socket = await tunnel(env.app.proxyPort, `${host}:443`);
      socket.write(Buffer.from([0x80, 0x2e, 0x01, 0x00, 0x02, 0x00, 0x15, 0x00, 0x00, 0x00, 0x10]));
      return collect(socket, 3000);
    });
    expect(r.closed).toBe(true);
    const caFiles = await readdir(path.join(env.app.dataDir, 'ca'), { recursive: true });
    expect(caFiles.filter((f) => f.includes(host))).toEqual([]);
  });

  it('scans an upload of 80,000 phone numbers within its bounds, passes it on whole and tags it scan-capped', async () => {
    const numbers = Array.from({ length: 80_000 }, (_, i) => `0${String(i * 7919).padStart(9, '1')}`);
    const body = JSON.stringify({ contacts: numbers });
    const file = path.join(tempDir(), 'address-book.json');
    await writeFile(file, body);
    const r = await withBystander(env.app, env.upstream, () =>
      curl(['-x', `http://127.0.0.1:${env.app.proxyPort}`, '--cacert', env.app.caFile, '-H', 'content-type: application/json', '--data-binary', `@${file}`, '-w', '%{http_code}', `${env.upstream.url}/address-book`]),
    );
    expect(r.stdout.toString()).toMatch(/200$/);
    expect(env.upstream.received.find((q) => q.url === '/address-book')?.body.length).toBe(body.length);
    const [summary] = await waitFor(() => env.app.store.summaries({ q: '/address-book', limit: 1 }), 5000, 'the upload flow');
    expect(summary.tags).toEqual(expect.arrayContaining(['contact-list', SCAN_CAPPED_TAG]));
    expect(summary.findings.length).toBeLessThanOrEqual(FINDINGS_PER_SCAN);
  });

  it('records a client that closes mid-body, with an error', async () => {
    const path = `/mid-body-${Date.now()}`;
    await withBystander(env.app, env.upstream, async () => {
      const socket = await connect(env.app.proxyPort);
      const plain = await startUpstream({ tls: false });
      try {
        socket.write(`POST ${plain.url}${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n\r\n${'a'.repeat(500)}`);
        await new Promise((r) => setTimeout(r, 100));
        socket.destroy();
        const flow = await waitFor(() => env.app.store.summaries({ q: path })[0], 3000, 'mid-body flow');
        expect(plain.received).toEqual([]);
        return flow;
      } finally {
        await plain.close();
      }
    });
    const [summary] = env.app.store.summaries({ q: path });
    expect(env.app.store.get(summary.id)?.error).toMatch(/client closed the connection mid-request/);
  });

  it('records a client that refuses our certificate as a tls-error, live and in /api/tls-errors', async () => {
    const live = io(env.app.uiUrl, { transports: ['websocket'], reconnection: false });
    const events: TlsErrorEvent[] = [];
    live.on('tls-error', (e: TlsErrorEvent) => events.push(e));
    await new Promise<void>((resolve, reject) => live.once('connect', resolve).once('connect_error', reject));
    try {
      const r = await withBystander(env.app, env.upstream, () => curl(['-x', `http://127.0.0.1:${env.app.proxyPort}`, `https://localhost:${env.upstream.port}/pinned`]));
      expect(r.code).not.toBe(0); // curl does not trust our CA: it aborts the handshake
      const event = await waitFor(() => events[0], 3000, 'live tls-error');
      expect(event).toMatchObject({ host: 'localhost', client: '127.0.0.1' });
      expect(event.message).toMatch(/unknown ca|certificate/i);
      const listed = (await (await fetch(`${env.app.uiUrl}api/tls-errors`)).json()) as TlsErrorEvent[];
      expect(listed[0]).toMatchObject({ host: 'localhost', client: '127.0.0.1' });
    } finally {
      live.close();
    }
  });

  it('cuts a client that trickles its headers (plain HTTP)', async () => {
    const r = await withBystander(env.app, env.upstream, async () => {
      const socket = await connect(env.app.proxyPort);
      socket.write(`GET ${env.upstream.url.replace('https', 'http')}/slow HTTP/1.1\r\n`);
      return trickle(socket);
    });
    expect(r.closed).toBe(true);
    expect(r.elapsed).toBeLessThan(HEADERS_TIMEOUT * 4);
  });

  it('serves a kept-alive request that arrived while the proxy was busy past the header timeout', async () => {
    const plain = await startUpstream({ tls: false });
    const socket = await connect(env.app.proxyPort);
    try {
      let received = '';
      socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
      const responses = () => received.match(/^HTTP\/1\.1 200 /gm)?.length ?? 0;
      const get = (n: number) => `GET ${plain.url}/busy-${n} HTTP/1.1\r\nHost: 127.0.0.1:${plain.port}\r\n\r\n`;
      socket.write(get(1));
      await waitFor(() => responses() === 1, 10_000, 'the first response');
      // the proxy's clock for the next request's headers runs from the first response's end
      await new Promise((resolve) => setTimeout(resolve, 100));
      await new Promise<void>((resolve) =>
        setImmediate(() => {
          // The next request is in the proxy's socket, and the proxy (in this process) stays busy for twice its
          // header time, as when it scans a big body; the timers run before the socket is read.
          socket.write(get(2));
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, HEADERS_TIMEOUT * 2);
          resolve();
        }),
      );
      await waitFor(() => responses() === 2 || socket.destroyed, 10_000, 'the second response');
      expect(responses()).toBe(2);
    } finally {
      socket.destroy();
      await plain.close();
    }
  });

  it('cuts a client that trickles its headers inside a TLS tunnel', async () => {
    const r = await withBystander(env.app, env.upstream, async () => {
      const raw = await tunnel(env.app.proxyPort, `127.0.0.1:${env.upstream.port}`);
      const socket = tls.connect({ socket: raw, ca: env.app.caPem, host: '127.0.0.1' });
      await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
      socket.write('GET /slow HTTP/1.1\r\n');
      return trickle(socket);
    });
    expect(r.closed).toBe(true);
    expect(r.elapsed).toBeLessThan(HEADERS_TIMEOUT * 4);
  });
});
