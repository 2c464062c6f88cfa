// The benchmark's upstream, run as its own process so it does not share a core's event loop with the load
// generator: HTTPS on 127.0.0.1 with a throwaway CA. Prints `{"port":…,"caFile":…}` once listening.
//   GET /small → 1 KiB   GET /large → 1 MiB   GET /stream?bytes=N → N bytes   POST /sink → reads it all, answers the count
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { ensureCa, LeafMinter } from '../proxy/certs/authority';

const SMALL = Buffer.alloc(1024, 'a');
const LARGE = Buffer.alloc(1024 * 1024, 'b');
const CHUNK = Buffer.alloc(64 * 1024, 'c');

function stream(res: import('node:http').ServerResponse, bytes: number): void {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes });
  let left = bytes;
  const pump = () => {
    while (left > 0) {
      const n = Math.min(left, CHUNK.length);
      left -= n;
      if (!res.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) return void res.once('drain', pump);
    }
    res.end();
  };
  pump();
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leakscope-bench-upstream-'));
const ca = await ensureCa(dir);
const leaf = await (await LeafMinter.create(ca)).certificateFor('127.0.0.1');
const caFile = path.join(dir, 'certs', 'ca.pem');
const server = https.createServer({ key: leaf.key, cert: leaf.cert }, (req, res) => {
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
});
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: (server.address() as AddressInfo).port, caFile }) + '\n');
});
process.on('SIGTERM', () => process.exit(0));
