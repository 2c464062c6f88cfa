// Streams untouched: headers and every chunk reach the phone as they arrive (only the end waits for the flow's
// commit), response headers are waited for `--upstream-timeout`, an open stream is cut only by `--idle-timeout`,
// and HTTP/1.1 trailers pass both ways and are recorded.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import harValidator from 'har-validator';
import { ProxyAgent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Flow, FlowSummary } from '../../shared/types';
import { startTestLeakscope, waitFor, type TestLeakscope } from '../helpers/leakscope';
import { startUpstream, type Upstream } from '../helpers/upstream';

/** A signal one side gives and the other waits for, at most `ms` (a missing signal must not hang the test). */
class Signals {
  private readonly waiting = new Map<string, { promise: Promise<boolean>; resolve: (v: boolean) => void }>();
  private entry(name: string) {
    let e = this.waiting.get(name);
    if (!e) {
      let resolve!: (v: boolean) => void;
      const promise = new Promise<boolean>((r) => (resolve = r));
      e = { promise, resolve };
      this.waiting.set(name, e);
    }
    return e;
  }
  give(name: string): void {
    this.entry(name).resolve(true);
  }
  /** true when the signal came in time */
  wait(name: string, ms: number): Promise<boolean> {
    return Promise.race([this.entry(name).promise, new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);
  }
}

const UPSTREAM_TIMEOUT = 1000;
const IDLE_TIMEOUT = 2500;

describe('streams through the proxy', () => {
  const signals = new Signals();
  /** what the upstream learnt: whether each signal came before it sent what followed */
  const inTime: Record<string, boolean> = {};
  let upstream: Upstream;
  let app: TestLeakscope;
  let agent: ProxyAgent;

  beforeAll(async () => {
    upstream = await startUpstream({
      handler: async (req, res) => {
        if (req.url === '/sse') {
          res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
          for (let n = 1; n <= 3; n++) {
            res.write(`data: event ${n}\n\n`);
            // The next event is sent only once the client has this one (or 5 s have passed: then it was late).
            inTime[`sse ${n}`] = await signals.wait(`sse ${n}`, 5000);
          }
          res.end();
        } else if (req.url === '/stall') {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.flushHeaders();
          inTime.headers = await signals.wait('headers', 3000);
          res.end('data after the stall');
        } else if (req.url === '/sized') {
          res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '10' });
          res.write('aaaaa');
          inTime.half = await signals.wait('half', 3000);
          res.end('bbbbb');
        } else if (req.url === '/quiet') {
          // silent for longer than --upstream-timeout, though not for --idle-timeout
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.write('first ');
          setTimeout(() => res.end('second'), UPSTREAM_TIMEOUT * 1.8);
        } else if (req.url === '/silent') {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.write('and then nothing');
        }
      },
    });
    app = await startTestLeakscope({ upstreamCaPem: upstream.caPem, upstreamTimeout: UPSTREAM_TIMEOUT, idleTimeout: IDLE_TIMEOUT });
    agent = new ProxyAgent({ uri: `http://127.0.0.1:${app.proxyPort}`, requestTls: { ca: app.caPem } });
  });

  afterAll(async () => {
    await agent?.close();
    await app?.close();
    await upstream?.close();
  });

  const api = async <T>(p: string): Promise<T> => (await fetch(`${app.uiUrl}${p}`)).json() as Promise<T>;
  const flowFor = async (url: string) => {
    const summary = await waitFor(async () => (await api<FlowSummary[]>('api/flows?limit=500')).find((f) => f.url === url), 8000, url);
    return api<Flow>(`api/flows/${summary.id}`);
  };

  it('passes each SSE event on before the server sends the next', async () => {
    const r = await request(`${upstream.url}/sse`, { dispatcher: agent });
    let text = '';
    for await (const chunk of r.body) {
      text += chunk.toString();
      for (const m of text.matchAll(/data: event (\d)\n\n/g)) signals.give(`sse ${m[1]}`);
    }
    expect(text).toBe('data: event 1\n\ndata: event 2\n\ndata: event 3\n\n');
    expect(inTime).toMatchObject({ 'sse 1': true, 'sse 2': true, 'sse 3': true });
    expect((await flowFor(`${upstream.url}/sse`)).responseBody?.text).toBe(text);
  });

  it('passes the response headers on before the body is sent', async () => {
    const r = await request(`${upstream.url}/stall`, { dispatcher: agent });
    signals.give('headers');
    expect(await r.body.text()).toBe('data after the stall');
    expect(inTime.headers).toBe(true);
  });

  it('passes a Content-Length body on as it arrives, holding back only its end', async () => {
    const r = await request(`${upstream.url}/sized`, { dispatcher: agent });
    let text = '';
    for await (const chunk of r.body) {
      text += chunk.toString();
      if (text.length >= 5) signals.give('half');
    }
    expect(text).toBe('aaaaabbbbb');
    expect(inTime.half).toBe(true);
    expect((await flowFor(`${upstream.url}/sized`)).responseBody?.text).toBe('aaaaabbbbb');
  });

  it('does not cut a stream that is quiet for longer than --upstream-timeout', async () => {
    const r = await request(`${upstream.url}/quiet`, { dispatcher: agent });
    expect(r.statusCode).toBe(200);
    expect(await r.body.text()).toBe('first second');
    const flow = await flowFor(`${upstream.url}/quiet`);
    expect(flow.error).toBeUndefined();
    expect(flow.timings.total).toBeGreaterThan(UPSTREAM_TIMEOUT);
  });

  it('cuts a stream that passes nothing for --idle-timeout, and records why', async () => {
    const started = Date.now();
    const r = await request(`${upstream.url}/silent`, { dispatcher: agent });
    expect(r.statusCode).toBe(200);
    await expect(r.body.text()).rejects.toThrow();
    expect(Date.now() - started).toBeGreaterThanOrEqual(IDLE_TIMEOUT - 100);
    const flow = await flowFor(`${upstream.url}/silent`);
    expect(flow.error).toMatch(/idle timeout/);
    expect(flow.responseBody?.text).toBe('and then nothing');
  });
});

describe('HTTP/1.1 trailers', () => {
  let server: http.Server;
  let port: number;
  let app: TestLeakscope;
  let receivedTrailers: http.IncomingHttpHeaders | undefined;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        receivedTrailers = req.trailers;
        res.writeHead(200, { 'content-type': 'application/grpc', trailer: 'grpc-status, grpc-message' });
        res.write('message body');
        res.addTrailers({ 'grpc-status': '0', 'grpc-message': 'OK' });
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
    app = await startTestLeakscope();
  });

  afterAll(async () => {
    await app?.close();
    server?.closeAllConnections();
    server?.close();
  });

  it('passes them both ways and records them on the flow and in HAR', async () => {
    const url = `http://127.0.0.1:${port}/rpc`;
    const answer = await new Promise<{ body: string; trailers: http.IncomingHttpHeaders }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: app.proxyPort, method: 'POST', path: url, headers: { 'transfer-encoding': 'chunked', te: 'trailers', trailer: 'x-checksum' } });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ body, trailers: res.trailers }));
      });
      req.on('error', reject);
      req.write('upload');
      req.addTrailers({ 'x-checksum': 'c0ffee' });
      req.end();
    });
    expect(answer).toEqual({ body: 'message body', trailers: { 'grpc-status': '0', 'grpc-message': 'OK' } });
    expect(receivedTrailers).toEqual({ 'x-checksum': 'c0ffee' });

    const summary = await waitFor(async () => ((await (await fetch(`${app.uiUrl}api/flows`)).json()) as FlowSummary[]).find((f) => f.url === url), 5000, url);
    const flow = (await (await fetch(`${app.uiUrl}api/flows/${summary.id}`)).json()) as Flow;
    expect(flow.requestTrailers).toEqual({ 'x-checksum': 'c0ffee' });
    expect(flow.responseTrailers).toEqual({ 'grpc-status': '0', 'grpc-message': 'OK' });
    const har = await (await fetch(`${app.uiUrl}api/export.har`, { headers: { 'sec-fetch-site': 'same-origin' } })).json();
    await expect(harValidator.har(har)).resolves.toBeTruthy();
    expect(har.log.entries[0]._leakscope.responseTrailers).toEqual([
      { name: 'grpc-status', value: '0' },
      { name: 'grpc-message', value: 'OK' },
    ]);
  });
});
