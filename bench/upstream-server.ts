// The benchmark's upstream, run as its own process so it does not share a core's event loop with the load
// generator: HTTPS (and plain HTTP) on 127.0.0.1 with a throwaway CA. Prints
// `{"port":…,"h2":…,"caFile":…,"https":{host:port},"http":{host:port}}` once listening; `h2` is an HTTPS port
// on the first host that speaks HTTP/2 (and HTTP/1.1 to clients offering only that), with the same answers.
//   GET /small → 1 KiB   GET /large → 1 MiB   GET /stream?bytes=N → N bytes   POST /sink → reads it all, answers the count
//   WebSocket /socket (HTTPS servers) → answers each message `ack`
import fs from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Writable } from 'node:stream';
import { WebSocketServer } from 'ws';
import { ensureCa, LeafMinter } from '../proxy/certs/authority';

const SMALL = Buffer.alloc(1024, 'a');
const LARGE = Buffer.alloc(1024 * 1024, 'b');
const CHUNK = Buffer.alloc(64 * 1024, 'c');

// Node's HTTP/2 compatibility API answers like an http.ServerResponse for everything used here.
type Request = http.IncomingMessage | http2.Http2ServerRequest;
type Response = http.ServerResponse | http2.Http2ServerResponse;

function stream(res: Response, bytes: number): void {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes });
  let left = bytes;
  const out: Writable = res;
  const pump = () => {
    while (left > 0) {
      const n = Math.min(left, CHUNK.length);
      left -= n;
      if (!out.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) return void res.once('drain', pump);
    }
    res.end();
  };
  pump();
}

// `--hosts 127.0.0.1,127.0.0.2`: one HTTPS and one plain HTTP server on each loopback address (the soak's
// several destinations); the first HTTPS port is also printed as `port`.
const hostsArg = process.argv.indexOf('--hosts');
const hosts = hostsArg > 0 ? process.argv[hostsArg + 1].split(',') : ['127.0.0.1'];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leakscope-bench-upstream-'));
const ca = await ensureCa(dir);
const minter = await LeafMinter.create(ca);
const caFile = path.join(dir, 'certs', 'ca.pem');

function handle(req: Request, res: Response): void {
  const url = new URL(req.url ?? '/', 'https://127.0.0.1');
  if (req.method === 'POST') {
    let n = 0;
    req.on('data', (c: Buffer) => (n += c.length));
    req.on('end', () => res.end(String(n)));
    return;
  }
  req.resume();
  if (url.pathname === '/small') return void res.end(SMALL);
  if (url.pathname === '/large') return void res.end(LARGE);
  if (url.pathname === '/stream') return stream(res, Number(url.searchParams.get('bytes')));
  res.writeHead(404).end();
}

function listen(server: http.Server | http2.Http2SecureServer, host: string): Promise<number> {
  if ('keepAliveTimeout' in server) server.keepAliveTimeout = 30_000;
  return new Promise((resolve) => server.listen(0, host, () => resolve((server.address() as AddressInfo).port)));
}

const https_: Record<string, number> = {};
const http_: Record<string, number> = {};
for (const host of hosts) {
  const leaf = await minter.certificateFor(host);
  const server = https.createServer({ key: leaf.key, cert: leaf.cert }, handle);
  new WebSocketServer({ server, path: '/socket' }).on('connection', (ws) => ws.on('message', () => ws.send('ack')));
  https_[host] = await listen(server, host);
  http_[host] = await listen(http.createServer(handle), host);
}
const leaf = await minter.certificateFor(hosts[0]);
const h2 = await listen(http2.createSecureServer({ key: leaf.key, cert: leaf.cert, allowHTTP1: true }, handle), hosts[0]);
process.stdout.write(JSON.stringify({ port: https_[hosts[0]], h2, caFile, https: https_, http: http_ }) + '\n');
process.on('SIGTERM', () => {
  fs.rmSync(dir, { recursive: true, force: true });
  process.exit(0);
});
