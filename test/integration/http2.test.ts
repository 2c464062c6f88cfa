// HTTP/2 on both sides, with real clients: every pairing of phone and server protocol (curl offering h2 or only
// HTTP/1.1, against a server that speaks h2 or only HTTP/1.1) passes, each stream is a flow with its version,
// and a Node client that offers nothing but `h2` is served (it used to fail the handshake and be filed as a
// client refusing our certificate).
import fs from 'node:fs';
import http2 from 'node:http2';
import path from 'node:path';
import zlib from 'node:zlib';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Flow, FlowSummary } from '../../shared/types';
import { tunnel } from '../faults/raw';
import { curl, startTestLeakscope, tempDir, waitFor, type TestLeakscope } from '../helpers/leakscope';
import { startH2Upstream, startUpstream, type H2Upstream, type Upstream } from '../helpers/upstream';

const IMEI = '865123456789012';

/** The phone's h2 connection through a CONNECT tunnel, offering only `h2`. */
export async function h2Phone(app: TestLeakscope, port: number): Promise<http2.ClientHttp2Session> {
  const raw = await tunnel(app.proxyPort, `127.0.0.1:${port}`);
  const secure = tls.connect({ socket: raw, host: '127.0.0.1', ca: fs.readFileSync(app.caFile), ALPNProtocols: ['h2'] });
  await new Promise((resolve, reject) => secure.once('secureConnect', resolve).once('error', reject));
  expect(secure.alpnProtocol).toBe('h2');
  return http2.connect(`https://127.0.0.1:${port}`, { createConnection: () => secure });
}

/** One request on an h2 session: status, headers, body and trailers. */
export function h2Request(
  session: http2.ClientHttp2Session,
  headers: http2.OutgoingHttpHeaders,
  body?: Buffer,
): Promise<{ status: number; headers: http2.IncomingHttpHeaders; body: Buffer; trailers: http2.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers);
    let status = 0;
    let responseHeaders: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    stream.on('response', (h) => {
      status = Number(h[':status']);
      responseHeaders = h;
    });
    stream.on('trailers', (t) => (trailers = t));
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve({ status, headers: responseHeaders, body: Buffer.concat(chunks), trailers }));
    stream.on('error', reject);
    stream.end(body);
  });
}

export async function flowFor(app: TestLeakscope, urlPart: string): Promise<Flow> {
  const summary = await waitFor(() => app.store.summaries({ q: urlPart })[0], 5000, `the flow for ${urlPart}`);
  return (await (await fetch(`${app.uiUrl}api/flows/${(summary as FlowSummary).id}`)).json()) as Flow;
}

describe('HTTP/2', () => {
  let app: TestLeakscope;
  let h2: H2Upstream;
  let h1: Upstream;

  beforeAll(async () => {
    h2 = await startH2Upstream((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'h2' });
        res.end(JSON.stringify({ version: req.httpVersion, url: req.url, bytes: Buffer.concat(chunks).length }));
      });
    });
    h1 = await startUpstream({
      handler: (req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ version: '1.1', url: req.url, bytes: req.body.length }));
      },
    });
    const dir = tempDir();
    const identifiersFile = path.join(dir, 'ids.json');
    fs.writeFileSync(identifiersFile, JSON.stringify({ devices: [{ name: 'RedMi 1S', imei: [IMEI] }] }));
    app = await startTestLeakscope({ upstreamCaPem: h2.caPem, identifiersFile });
  });

  afterAll(async () => {
    await app?.close();
    await h2?.close();
    await h1?.close();
  });

  it.each([
    ['--http2', 'h2', '2', 'HTTP/2', '2.0'],
    ['--http2', 'HTTP/1.1', '2', 'HTTP/2', '1.1'],
    ['--http1.1', 'h2', '1.1', 'HTTP/1.1', '2.0'],
    ['--http1.1', 'HTTP/1.1', '1.1', 'HTTP/1.1', '1.1'],
  ])('curl %s against a server speaking %s: the phone speaks %s, the flow is %s, the server got %s', async (flag, server, phoneVersion, flowVersion, serverVersion) => {
    const base = server === 'h2' ? h2.url : h1.url;
    const url = `${base}/pairing-${flag.slice(2)}-${server.replace('/', '')}?imei=${IMEI}`;
    const r = await curl(['-x', `http://127.0.0.1:${app.proxyPort}`, '--cacert', app.caFile, flag, '-w', '\n%{http_version}', url]);
    expect(r.stderr).toBe('');
    const [body, version] = r.stdout.toString().split('\n');
    expect(version).toBe(phoneVersion);
    expect(JSON.parse(body)).toMatchObject({ version: serverVersion, bytes: 0 });
    const flow = await flowFor(app, new URL(url).pathname);
    expect(flow).toMatchObject({ kind: 'http', httpVersion: flowVersion, status: 200, method: 'GET', url });
    expect(flow.findings).toEqual([expect.objectContaining({ type: 'imei', where: 'url', path: 'imei' })]);
    expect(Object.keys(flow.requestHeaders).filter((h) => h.startsWith(':'))).toEqual([]);
  });

  it('serves a Node client that offers only h2, a body and its IMEI included, over one session to each side', async () => {
    const session = await h2Phone(app, h2.port);
    try {
      const body = Buffer.from(JSON.stringify({ device: { imei: IMEI }, pad: 'x'.repeat(40_000) }));
      const results = await Promise.all(
        [1, 2, 3].map((i) =>
          h2Request(session, { ':method': 'POST', ':path': `/only-h2/${i}`, 'content-type': 'application/json' }, body),
        ),
      );
      for (const r of results) {
        expect(r.status).toBe(200);
        expect(JSON.parse(r.body.toString())).toMatchObject({ version: '2.0', bytes: body.length });
      }
      const flow = await flowFor(app, '/only-h2/2');
      expect(flow).toMatchObject({ httpVersion: 'HTTP/2', method: 'POST', status: 200 });
      expect(flow.requestBody?.size).toBe(body.length);
      expect(flow.findings).toEqual([expect.objectContaining({ type: 'imei', where: 'body', path: '$.device.imei' })]);
      expect(flow.responseHeaders?.['x-upstream']).toBe('h2');
    } finally {
      session.close();
    }
  });
});

/** A gRPC message: compressed flag, 4-byte length, payload (gzip-compressed when `gzip`). */
function grpcFrame(payload: Buffer, gzip = false): Buffer {
  const body = gzip ? zlib.gzipSync(payload) : payload;
  const prefix = Buffer.alloc(5);
  prefix[0] = gzip ? 1 : 0;
  prefix.writeUInt32BE(body.length, 1);
  return Buffer.concat([prefix, body]);
}

/** Whole messages in `data`, decompressed. */
function grpcPayloads(data: Buffer): string[] {
  const out: string[] = [];
  for (let at = 0; at + 5 <= data.length; ) {
    const size = data.readUInt32BE(at + 1);
    const body = data.subarray(at + 5, at + 5 + size);
    out.push((data[at] === 1 ? zlib.gunzipSync(body) : body).toString());
    at += 5 + size;
  }
  return out;
}

describe('gRPC through HTTP/2', () => {
  let app: TestLeakscope;
  let server: H2Upstream;

  beforeAll(async () => {
    // Unary: one message in, one out, then the status trailers. Chat: every message answered as it arrives.
    server = await startH2Upstream((req, res) => {
      res.writeHead(200, { 'content-type': 'application/grpc', 'grpc-encoding': 'gzip' });
      const chunks: Buffer[] = [];
      let answered = 0;
      req.on('data', (c: Buffer) => {
        chunks.push(c);
        if (req.url !== '/demo.Chat/Talk') return;
        const seen = grpcPayloads(Buffer.concat(chunks));
        for (; answered < seen.length; answered++) res.write(grpcFrame(Buffer.from(`ack ${seen[answered]}`), true));
      });
      req.on('end', () => {
        if (req.url === '/demo.Device/Register') res.write(grpcFrame(Buffer.from(`registered ${grpcPayloads(Buffer.concat(chunks)).length}`), true));
        res.addTrailers({ 'grpc-status': '0', 'grpc-message': 'OK' });
        res.end();
      });
    });
    const dir = tempDir();
    const identifiersFile = path.join(dir, 'ids.json');
    fs.writeFileSync(identifiersFile, JSON.stringify({ devices: [{ imei: [IMEI] }] }));
    app = await startTestLeakscope({ upstreamCaPem: server.caPem, identifiersFile });
  });

  afterAll(async () => {
    await app?.close();
    await server?.close();
  });

  const grpcHeaders = (path: string) => ({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', 'grpc-encoding': 'gzip' });

  it('passes a unary call with a gzip message and its grpc-status trailer, and scans the message', async () => {
    const session = await h2Phone(app, server.port);
    try {
      const r = await h2Request(session, grpcHeaders('/demo.Device/Register'), grpcFrame(Buffer.from(JSON.stringify({ imei: IMEI })), true));
      expect(r.status).toBe(200);
      expect(grpcPayloads(r.body)).toEqual(['registered 1']);
      expect(r.trailers).toMatchObject({ 'grpc-status': '0', 'grpc-message': 'OK' });
      const flow = await flowFor(app, '/demo.Device/Register');
      expect(flow.responseTrailers).toEqual({ 'grpc-status': '0', 'grpc-message': 'OK' });
      expect(flow.findings).toEqual([expect.objectContaining({ type: 'imei', value: IMEI, where: 'body' })]);
    } finally {
      session.close();
    }
  });

  it('passes a bidirectional call message by message, in order: each reply comes before the next message is sent', async () => {
    const session = await h2Phone(app, server.port);
    try {
      const stream = session.request(grpcHeaders('/demo.Chat/Talk'));
      let received = Buffer.alloc(0);
      let trailers: http2.IncomingHttpHeaders = {};
      stream.on('data', (c: Buffer) => (received = Buffer.concat([received, c])));
      stream.on('trailers', (t) => (trailers = t));
      const ended = new Promise((r) => stream.on('end', r));
      const sent = ['hello', 'battery 81', `imei ${IMEI}`, 'bye'];
      for (const [i, text] of sent.entries()) {
        stream.write(grpcFrame(Buffer.from(text), i % 2 === 0));
        // The call would stall here if leakscope held the body until it ended.
        await waitFor(() => grpcPayloads(received).length === i + 1, 3000, `the reply to message ${i + 1}`);
      }
      stream.end();
      await ended;
      expect(grpcPayloads(received)).toEqual(sent.map((t) => `ack ${t}`));
      expect(trailers['grpc-status']).toBe('0');
      const flow = await flowFor(app, '/demo.Chat/Talk');
      expect(flow).toMatchObject({ httpVersion: 'HTTP/2', status: 200, responseTrailers: { 'grpc-status': '0', 'grpc-message': 'OK' } });
      expect(flow.findings).toEqual([expect.objectContaining({ type: 'imei', value: IMEI, where: 'body' })]);
      expect(flow.requestBody?.size).toBe(sent.reduce((n, t, i) => n + grpcFrame(Buffer.from(t), i % 2 === 0).length, 0));
    } finally {
      session.close();
    }
  });
});
