// A local HTTPS (or HTTP) upstream on 127.0.0.1 with its own test CA, recording every request it receives.
import fs from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { ensureCa, LeafMinter } from '../../proxy/certs/authority';

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface Upstream {
  port: number;
  /** base URL, e.g. https://127.0.0.1:PORT */
  url: string;
  /** the test CA that signed the upstream's certificate */
  caPem: string;
  received: ReceivedRequest[];
  /** WebSocket messages received (with `webSocket: true`) */
  messages: string[];
  close(): Promise<void>;
}

export type Handler = (req: ReceivedRequest, res: http.ServerResponse) => void;

const defaultHandler: Handler = (req, res) => {
  const body = JSON.stringify({ ok: true, method: req.method, url: req.url, bytes: req.body.length });
  res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'test' });
  res.end(body);
};

let testCa: Promise<{ caPem: string; minter: LeafMinter }> | undefined;

/** One test CA per test process, in a temp dir. */
function sharedTestCa() {
  testCa ??= (async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leakscope-upstream-ca-'));
    const ca = await ensureCa(dir);
    return { caPem: ca.certPem, minter: await LeafMinter.create(ca) };
  })();
  return testCa;
}

/** `certificateFor`: the name (or address) its certificate is for; 127.0.0.1 unless said */
/** Heads a test server takes: more than leakscope passes on, so leakscope's own limit is what a test meets. */
const SERVER_HEAD_BYTES = 512 * 1024;

export async function startUpstream(opts: { tls?: boolean; handler?: Handler; webSocket?: boolean; certificateFor?: string } = {}): Promise<Upstream> {
  const tls = opts.tls ?? true;
  const handler = opts.handler ?? defaultHandler;
  const received: ReceivedRequest[] = [];
  const listener: http.RequestListener = (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) };
      received.push(r);
      handler(r, res);
    });
  };
  const { caPem, minter } = await sharedTestCa();
  let server: http.Server | https.Server;
  if (tls) {
    const leaf = await minter.certificateFor(opts.certificateFor ?? '127.0.0.1');
    server = https.createServer({ key: leaf.key, cert: leaf.cert, maxHeaderSize: SERVER_HEAD_BYTES }, listener);
  } else {
    server = http.createServer({ maxHeaderSize: SERVER_HEAD_BYTES }, listener);
  }
  server.keepAliveTimeout = 1000;
  const messages: string[] = [];
  if (opts.webSocket) {
    const wss = new WebSocketServer({ server });
    wss.on('connection', (ws) => ws.on('message', (data) => {
      messages.push(data.toString());
      ws.send('ack');
    }));
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    caPem,
    received,
    messages,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface H2Upstream {
  port: number;
  url: string;
  caPem: string;
  close(): Promise<void>;
}

/** An HTTPS upstream that speaks HTTP/2 (and HTTP/1.1 to clients that offer only that), signed by the same test CA. */
export async function startH2Upstream(handler: (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void): Promise<H2Upstream> {
  const { caPem, minter } = await sharedTestCa();
  const leaf = await minter.certificateFor('127.0.0.1');
  const server = http2.createSecureServer({ key: leaf.key, cert: leaf.cert, allowHTTP1: true }, handler);
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.once('close', () => sessions.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `https://127.0.0.1:${port}`,
    caPem,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sessions) s.destroy();
        server.close(() => resolve());
      }),
  };
}
