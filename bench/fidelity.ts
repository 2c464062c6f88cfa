// Issue 10's cases, each run by a real client through leakscope and through mitmdump in the same run: what the
// client got, and (for leakscope) what was recorded. It prints a table; it asserts nothing (the tests do that
// for leakscope). `node --import tsx bench/fidelity.ts`, about a minute; mitmdump's column needs Debian's mitmproxy.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { request } from 'undici';
import { WebSocket, WebSocketServer } from 'ws';
import { ensureCa, LeafMinter, spkiHash } from '../proxy/certs/authority';
import type { FlowSummary } from '../shared/types';
import { launchChromium } from '../proxy/util/chromium';
import { dispatcher } from './load';
import { freePort, mitmdumpInstalled, startLeakscope, startMitmdump, tempDir, type Started } from './processes';

const IMEI = '356938035643809';
/** leakscope's bound on the wait for response headers, set low so that a 4 s idle stream outlasts it */
const UPSTREAM_TIMEOUT_MS = 2000;
const IDLE_MS = 4000;

interface Servers {
  caFile: string;
  h2: number;
  h1: number;
  /** a second HTTPS server: the Host header names it while CONNECT names `h1` */
  other: number;
  v6: number;
  tlsEcho: number;
  serverFirst: number;
  /** HTTPS with a certificate for localhost: the TLS failure cases, which need a name to send */
  named: number;
  close(): void;
}

interface Proxy {
  name: string;
  port: number;
  caPem: string;
  caFile: string;
  /** leakscope's dashboard, to read what it recorded */
  uiUrl?: string;
  /** mitmdump's log so far */
  log?: () => string;
}

const frame = (payload: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, 0, 0]), payload]).fill(payload.length, 4, 5);

async function startServers(): Promise<Servers> {
  const dir = tempDir('leakscope-fidelity-');
  const ca = await ensureCa(dir);
  const minter = await LeafMinter.create(ca);
  const leaf = await minter.certificateFor('127.0.0.1');
  const leaf6 = await minter.certificateFor('::1');
  const closers: (() => void)[] = [];
  const listen = async (server: net.Server, host = '127.0.0.1') => {
    await new Promise<void>((r) => server.listen(0, host, r));
    closers.push(() => server.close());
    return (server.address() as net.AddressInfo).port;
  };

  // gRPC-style: unary answers its one message, bidi echoes each message as it comes; both end with trailers.
  const h2server = http2.createSecureServer({ ...leaf, allowHTTP1: true });
  h2server.on('stream', (stream, headers) => {
    const route = headers[':path'];
    if (route === '/page') return stream.respond({ ':status': 200, 'content-type': 'text/html' }), stream.end('<p>h2</p>');
    if (route !== '/echo.Echo/Unary' && route !== '/echo.Echo/Bidi') return stream.respond({ ':status': 200 }), stream.end('plain');
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'grpc-message': 'ok' }));
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => (route.endsWith('Bidi') ? stream.write(c) : chunks.push(c)));
    stream.on('end', () => stream.end(Buffer.concat(chunks)));
  });
  const onH1 = (name: string) => (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
    if (req.url === '/sse') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      let n = 0;
      const tick = () => {
        res.write(`data: ${Date.now()}\n\n`);
        if (++n < 4) setTimeout(tick, 300);
        else res.end();
      };
      return tick();
    }
    if (req.url === '/idle') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first ');
      return void setTimeout(() => res.end('last'), IDLE_MS);
    }
    res.end(JSON.stringify({ server: name, url: req.url?.length, cookie: req.headers.cookie?.length ?? 0 }));
  };
  // Node's own limit on a request head is 16 KiB: raised, so that a refusal of the big heads is the proxy's.
  const h1 = { ...leaf, maxHeaderSize: 256 * 1024 };
  const h1server = https.createServer(h1, onH1('connect-target'));
  new WebSocketServer({ server: h1server, path: '/socket' }).on('connection', (ws) => ws.on('message', (data, binary) => ws.send(data, { binary })));
  const tlsEcho = tls.createServer(leaf, (s) => s.pipe(s));
  const serverFirst = net.createServer((s) => {
    s.write("<stream:stream from='im.example' version='1.0'>");
    s.pipe(s);
  });
  const ports = {
    h2: await listen(h2server),
    h1: await listen(h1server),
    other: await listen(https.createServer(h1, onH1('host-header'))),
    v6: await listen(https.createServer(leaf6, onH1('v6')), '::1'),
    tlsEcho: await listen(tlsEcho),
    named: await listen(https.createServer(await minter.certificateFor('localhost'), onH1('named'))),
    serverFirst: await listen(serverFirst),
  };
  return {
    caFile: path.join(dir, 'certs', 'ca.pem'),
    ...ports,
    close: () => {
      for (const c of closers) c();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A CONNECT tunnel through `proxy` to `target`, resolved once the proxy said 200. */
function tunnel(proxy: Proxy, target: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(proxy.port, '127.0.0.1', () => socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`));
    let head = '';
    const onData = (c: Buffer) => {
      head += c.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      if (/^HTTP\/1\.[01] 200/.test(head)) resolve(socket);
      else reject(new Error(head.split('\r\n')[0]));
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
}

/** TLS to the proxy's certificate for 127.0.0.1 (no SNI: an IP address is never sent as a server name). */
function tlsOver(socket: net.Socket, proxy: Proxy, alpn?: string[]): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ socket, host: '127.0.0.1', ca: proxy.caPem, ALPNProtocols: alpn }, () => resolve(s));
    s.once('error', reject);
  });
}

/** Resolves with what has arrived on `socket` once it holds `bytes`, or rejects after `ms`. */
function readUntil(socket: net.Socket, bytes: number, ms = 5000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const timer = setTimeout(() => (socket.off('data', onData), reject(new Error(`${got} of ${bytes} bytes in ${ms} ms`))), ms);
    const onData = (c: Buffer) => {
      chunks.push(c);
      got += c.length;
      if (got < bytes) return;
      clearTimeout(timer);
      socket.off('data', onData);
      resolve(Buffer.concat(chunks));
    };
    socket.on('data', onData);
  });
}

/** leakscope's record of the flows whose URL ends with `tail`: how many, their kind, whether an IMEI was flagged. */
async function recorded(proxy: Proxy, tail: string): Promise<string> {
  if (!proxy.uiUrl) return '';
  const flows = (await (await fetch(`${proxy.uiUrl}api/flows?limit=500`)).json()) as FlowSummary[];
  const mine = flows.filter((f) => f.url.endsWith(tail));
  const flagged = mine.some((f) => f.findings.some((x) => x.type === 'imei'));
  return `; recorded ${mine.length} flow${mine.length === 1 ? '' : 's'}${mine[0]?.kind ? ` (${mine[0].kind})` : ''}${flagged ? ', IMEI flagged' : ''}`;
}

async function h2Session(proxy: Proxy, port: number): Promise<http2.ClientHttp2Session> {
  const secure = await tlsOver(await tunnel(proxy, `127.0.0.1:${port}`), proxy, ['h2']);
  if (secure.alpnProtocol !== 'h2') throw new Error(`ALPN answered ${secure.alpnProtocol || 'nothing'}`);
  return http2.connect(`https://127.0.0.1:${port}`, { createConnection: () => secure });
}

function grpcCall(session: http2.ClientHttp2Session, method: string): { stream: http2.ClientHttp2Stream; trailers: Promise<http2.IncomingHttpHeaders> } {
  const stream = session.request({ ':method': 'POST', ':path': `/echo.Echo/${method}`, 'content-type': 'application/grpc', te: 'trailers' });
  return { stream, trailers: new Promise((r) => stream.once('trailers', r)) };
}

type Case = (proxy: Proxy, s: Servers) => Promise<string>;

const CASES: [string, Case][] = [
  ['curl --http2 to an h2 server', async (p, s) => {
    const out = await run('curl', ['-sS', '--http2', '-x', `http://127.0.0.1:${p.port}`, '--cacert', p.caFile, `https://127.0.0.1:${s.h2}/`, '-o', '/dev/null', '-w', '%{http_version} %{http_code}']);
    return `HTTP/${out.replace(' ', ', status ')}`;
  }],
  ['Node client offering only h2', async (p, s) => {
    const session = await h2Session(p, s.h2);
    const req = session.request({ ':path': '/' });
    const status = await new Promise<unknown>((r) => req.once('response', (h) => r(h[':status'])));
    req.resume();
    session.close();
    return `h2 negotiated, status ${String(status)}`;
  }],
  ['gRPC unary (IMEI in the message)', async (p, s) => {
    const session = await h2Session(p, s.h2);
    const { stream, trailers } = grpcCall(session, 'Unary');
    const message = frame(Buffer.from(`\x0a\x0f${IMEI}`, 'latin1'));
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.end(message);
    const t = await trailers;
    session.close();
    return `echo ${Buffer.concat(chunks).equals(message) ? 'byte-exact' : 'differs'}, trailer grpc-status ${String(t['grpc-status'])}${await recorded(p, '/echo.Echo/Unary')}`;
  }],
  ['gRPC bidirectional, 3 messages ping-pong', async (p, s) => {
    const session = await h2Session(p, s.h2);
    const { stream, trailers } = grpcCall(session, 'Bidi');
    const rtts: number[] = [];
    for (let i = 0; i < 3; i++) {
      const message = frame(Buffer.from(`ping ${i} ${IMEI}`));
      const t = performance.now();
      stream.write(message);
      const back = await new Promise<Buffer>((r) => stream.once('data', r));
      if (!back.equals(message)) return `message ${i} came back different`;
      rtts.push(performance.now() - t);
    }
    stream.end();
    stream.resume();
    const t = await trailers;
    session.close();
    return `in order, each answered before the next was sent (${rtts.map((r) => r.toFixed(1)).join(', ')} ms), grpc-status ${String(t['grpc-status'])}`;
  }],
  ['Chromium loads a page from an h2 server', async (p, s) => {
    const browser = await launchChromium([`--proxy-server=http://127.0.0.1:${p.port}`, '--proxy-bypass-list=<-loopback>', `--ignore-certificate-errors-spki-list=${await spkiHash(p.caPem)}`]);
    try {
      const page = await browser.newPage();
      await page.goto(`https://127.0.0.1:${s.h2}/page`);
      return `nextHopProtocol ${await page.evaluate(() => (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).nextHopProtocol)}`;
    } finally {
      await browser.close();
    }
  }],
  ['SSE: 4 events 300 ms apart', async (p, s) => {
    const d = dispatcher({ ca: p.caPem }, 1, p.port);
    const res = await request(`https://127.0.0.1:${s.h1}/sse`, { dispatcher: d });
    const delays: number[] = [];
    for await (const chunk of res.body) for (const m of String(chunk).matchAll(/data: (\d+)/g)) delays.push(Date.now() - Number(m[1]));
    await d.close();
    return `${delays.length} events, each ${Math.max(...delays)} ms or less after it was sent`;
  }],
  [`a stream idle ${IDLE_MS / 1000} s after its headers (leakscope --upstream-timeout ${UPSTREAM_TIMEOUT_MS})`, async (p, s) => {
    const d = dispatcher({ ca: p.caPem }, 1, p.port);
    const t = performance.now();
    const res = await request(`https://127.0.0.1:${s.h1}/idle`, { dispatcher: d, bodyTimeout: 20_000 });
    const headers = performance.now() - t;
    const body = await res.body.text();
    await d.close();
    return `status ${res.statusCode}, headers after ${headers.toFixed(0)} ms, body "${body}" after ${(performance.now() - t).toFixed(0)} ms`;
  }],
  ['MQTT-like TLS echo on a non-443 port', async (p, s) => {
    const socket = await tlsOver(await tunnel(p, `127.0.0.1:${s.tlsEcho}`), p, ['mqtt']);
    const message = Buffer.concat([Buffer.from([0x10, 0x20]), Buffer.from(`\x00\x04MQTT\x04\x02\x00\x3cclient-${IMEI}`, 'latin1')]);
    socket.write(message);
    const back = await readUntil(socket, message.length);
    const seen = await recorded(p, `:${s.tlsEcho}`);
    socket.destroy();
    return `echo ${back.equals(message) ? 'byte-exact' : 'differs'}${seen ? `${seen} while open` : ''}`;
  }],
  ['XMPP-like plain stream, server speaks first', async (p, s) => {
    const socket = await tunnel(p, `127.0.0.1:${s.serverFirst}`);
    const banner = "<stream:stream from='im.example' version='1.0'>";
    const got = (await readUntil(socket, banner.length, 3000)).toString();
    const stanza = `<message><body>imei ${IMEI}</body></message>`;
    socket.write(stanza);
    const back = (await readUntil(socket, stanza.length)).toString();
    const seen = await recorded(p, `:${s.serverFirst}`);
    socket.destroy();
    return `banner ${got === banner ? 'arrived' : 'missing'}, echo ${back === stanza ? 'byte-exact' : 'differs'}${seen ? `${seen} while open` : ''}`;
  }],
  ['32 KiB cookie over HTTPS', async (p, s) => {
    const d = dispatcher({ ca: p.caPem }, 1, p.port);
    const cookie = `c=${'x'.repeat(32 * 1024 - 2)}`;
    const res = await request(`https://127.0.0.1:${s.h1}/`, { dispatcher: d, headers: { cookie } });
    const seen = JSON.parse(await res.body.text()) as { cookie: number };
    await d.close();
    return `status ${res.statusCode}, server got ${seen.cookie} of ${cookie.length} cookie bytes`;
  }],
  ['60 KiB URL over HTTPS', async (p, s) => {
    const d = dispatcher({ ca: p.caPem }, 1, p.port);
    const url = `/?q=${'y'.repeat(60 * 1024)}`;
    const res = await request(`https://127.0.0.1:${s.h1}${url}`, { dispatcher: d });
    const text = await res.body.text();
    await d.close();
    return `status ${res.statusCode}${res.statusCode === 200 ? `, server got ${(JSON.parse(text) as { url: number }).url} of ${url.length} URL bytes` : ''}`;
  }],
  ['https://[::1]:port/', async (p, s) => {
    const d = dispatcher({ ca: p.caPem }, 1, p.port);
    const res = await request(`https://[::1]:${s.v6}/`, { dispatcher: d });
    const body = JSON.parse(await res.body.text()) as { server: string };
    await d.close();
    return `status ${res.statusCode}, answered by the ${body.server} server`;
  }],
  ['CONNECT to one server, Host header naming another', async (p, s) => {
    const socket = await tlsOver(await tunnel(p, `127.0.0.1:${s.h1}`), p, ['http/1.1']);
    socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${s.other}\r\nConnection: close\r\n\r\n`);
    const text = await new Promise<string>((r) => {
      let all = '';
      socket.on('data', (c: Buffer) => (all += c.toString()));
      socket.once('close', () => r(all));
      socket.once('error', () => r(all));
    });
    const m = /"server":"([^"]+)"/.exec(text);
    return m ? `answered by the ${m[1]} server` : `no answer (${text.split('\r\n')[0] || 'closed'})`;
  }],
  ['WebSocket: 3 messages each way, one with the IMEI', async (p, s) => {
    const secure = await tlsOver(await tunnel(p, `127.0.0.1:${s.h1}`), p, ['http/1.1']);
    const ws = new WebSocket(`wss://127.0.0.1:${s.h1}/socket`, { createConnection: () => secure });
    await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
    const sent = ['hello', `{"imei":"${IMEI}"}`, 'bye'];
    const back: string[] = [];
    for (const m of sent) {
      ws.send(m);
      back.push(String(await new Promise((r) => ws.once('message', r))));
    }
    ws.close();
    await new Promise((r) => ws.once('close', r));
    await new Promise((r) => setTimeout(r, 300));
    return `${back.join('|') === sent.join('|') ? 'all echoed' : 'echo differs'}${await recorded(p, '/socket')}`;
  }],
];

/**
 * The TLS failures, to a server with a certificate for `localhost`: curl not trusting the proxy's CA (it sends the
 * unknown_ca alert), a client that speaks only TLS 1.1, and one that completes the handshake and hangs up. What each
 * proxy says of each: leakscope's `tls-error` events, the lines mitmdump logged meanwhile.
 */
async function tlsFailures(p: Proxy, s: Servers): Promise<string[]> {
  const attempt = async (options: tls.ConnectionOptions, then: (t: tls.TLSSocket) => void = () => {}) => {
    const raw = await tunnel(p, `localhost:${s.named}`);
    await new Promise<void>((resolve) => {
      setTimeout(() => (raw.destroy(), resolve()), 5000).unref();
      const t = tls.connect({ socket: raw, servername: 'localhost', ...options }, () => then(t));
      t.once('error', () => resolve());
      t.once('close', () => resolve());
    });
  };
  const attempts: (() => Promise<unknown>)[] = [
    () => run('curl', ['-sS', '--max-time', '10', '-x', `http://127.0.0.1:${p.port}`, `https://localhost:${s.named}/`]),
    () => attempt({ ca: p.caPem, minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }),
    () => attempt({ ca: p.caPem }, (t) => t.end()),
  ];
  const kinds = ['untrusted', 'incompatible', 'closed-after-handshake'];
  const out: string[] = [];
  for (const [i, once] of attempts.entries()) {
    const before = p.log?.().length ?? 0;
    await once();
    await new Promise((r) => setTimeout(r, 1000));
    if (p.uiUrl) {
      const events = (await (await fetch(`${p.uiUrl}api/tls-errors`)).json()) as { host: string; kind: string; message: string }[];
      const e = events.find((x) => x.host === 'localhost' && x.kind === kinds[i]);
      out.push(e ? `${e.kind}: ${e.message}` : 'nothing reported');
    } else {
      const said = (p.log?.() ?? '').slice(before).split('\n').filter((l) => /tls|handshake|certificate|trust/i.test(l));
      out.push(said.map((l) => l.trim().slice(0, 160)).join(' / ') || 'nothing in its log');
    }
  }
  return out;
}

/** Starts the proxy on a port already taken: exit code, seconds until it exited, its first line on stderr. */
async function portInUse(command: string, args: (port: number) => string[]): Promise<string> {
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const port = (blocker.address() as net.AddressInfo).port;
  const t = performance.now();
  const child = spawn(command, args(port), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const code = await new Promise<number | string>((r) => {
    const timer = setTimeout(() => (child.kill('SIGKILL'), r('none: still running after 30 s')), 30_000);
    child.once('exit', (c) => (clearTimeout(timer), r(c ?? 'signal')));
  });
  blocker.close();
  const lines = out.trim().split('\n').filter(Boolean);
  return `exit ${code} after ${((performance.now() - t) / 1000).toFixed(1)} s, ${lines.length} line${lines.length === 1 ? '' : 's'}: ${lines.find((l) => /port|address|in use/i.test(l))?.slice(0, 120) ?? lines[0]?.slice(0, 120) ?? '(none)'}`;
}

function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.once('exit', () => resolve(out.trim()));
  });
}

async function measureProxy(proxy: Proxy, servers: Servers): Promise<string[]> {
  const results: string[] = [];
  for (const [name, c] of CASES) {
    results.push(await Promise.race([c(proxy, servers), new Promise<string>((r) => setTimeout(() => r('no result within 20 s'), 20_000).unref())]).catch((e: Error) => `fails: ${e.message}`));
    process.stderr.write(`${proxy.name}: ${name}: ${results[results.length - 1]}\n`);
  }
  results.push(...(await tlsFailures(proxy, servers).catch((e: Error) => [`fails: ${e.message}`, '', ''])));
  return results;
}

const servers = await startServers();
const stops: Started[] = [];
// Stopped with Ctrl-C or `timeout`: the proxies go too.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void Promise.all(stops.map((s) => s.stop())).then(() => process.exit(1)));
try {
  const dir = tempDir('leakscope-fidelity-cas-');
  const withFile = <T extends { caPem: string }>(name: string, p: T) => {
    const caFile = path.join(dir, `${name}.pem`);
    fs.writeFileSync(caFile, p.caPem);
    return { ...p, name, caFile };
  };
  const ls = await startLeakscope(servers.caFile, ['--upstream-timeout', String(UPSTREAM_TIMEOUT_MS)]);
  stops.push(ls);
  const proxies: Proxy[] = [withFile('leakscope', ls)];
  if (mitmdumpInstalled()) {
    const mitm = await startMitmdump(servers.caFile, { keepLog: true });
    stops.push(mitm);
    proxies.push(withFile('mitmdump', mitm));
  }
  const columns: string[][] = [];
  for (const p of proxies) columns.push(await measureProxy(p, servers));
  columns[0].push(await portInUse(process.execPath, (port) => ['bin/leakscope.js', 'start', '--data-dir', path.join(dir, 'busy-leakscope'), '--proxy-host', '127.0.0.1', '--proxy-port', String(port), '--ui-port', '0']));
  if (columns[1]) columns[1].push(await portInUse('mitmdump', (port) => ['--listen-host', '127.0.0.1', '--listen-port', String(port), '--set', `confdir=${path.join(dir, 'busy-mitmdump')}`]));
  const rows = [...CASES.map(([name]) => name), 'TLS: client does not trust the CA', 'TLS: client speaks only TLS 1.1', 'TLS: handshake, then closed with no request', 'proxy port already in use'];
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  console.log(`| case | ${proxies.map((p) => p.name).join(' | ')} |`);
  console.log(`| --- | ${proxies.map(() => '---').join(' | ')} |`);
  rows.forEach((r, i) => console.log(`| ${r} | ${columns.map((c) => cell(c[i] ?? '')).join(' | ')} |`));
  fs.rmSync(dir, { recursive: true, force: true });
} finally {
  for (const s of stops) await s.stop();
  servers.close();
}
