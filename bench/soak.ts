// `npm run soak -- --minutes N`: steady mixed load through the real CLI for N minutes, printing once a minute
// the proxy's RSS, open file descriptors, event-loop delay (GET /api/stats) and flows stored; exits 1 if any
// of them keeps growing, if requests fail, or if a response the client saw complete has no stored flow.
//
// The mix, from 6 clients at a steady pace: HTTPS and plain HTTP to three loopback hosts (each its own
// certificate), 1 KiB answers, a 300 KB stream (stored truncated), small JSON posts leaking an IMEI, URLs
// leaking an Android ID, 300 KB uploads; and a phone on a WebSocket, reconnecting every 100 messages, a
// quarter of them leaking the IMEI, each answered by the server.
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { parseArgs } from 'node:util';
import { ProxyAgent, request, type Dispatcher } from 'undici';
import WebSocket from 'ws';
import { tunnel } from '../test/faults/raw';
import type { StatsResponse } from '../shared/api';
import { rssMb, startLeakscope, startUpstream, type Started } from './processes';
import { median } from './stats';

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '10' } } });
const MINUTES = Number(values.minutes);
if (!(MINUTES >= 1 && MINUTES <= 24 * 60)) {
  process.stderr.write('soak: --minutes takes a number from 1 to 1440\n');
  process.exit(2);
}
const CLIENTS = 6;
const PAUSE_MS = 20;
const SAMPLE_MS = 5_000;
const REQUEST_LIMIT_MS = 15_000;
const HOSTS = ['127.0.0.1', '127.0.0.2', '127.0.0.3'];
const UPLOAD = Buffer.alloc(300_000, 'p');
const WS_MESSAGES_PER_CONNECTION = 100;
const WS_PAUSE_MS = 20;

const say = (line = '') => process.stdout.write(line + '\n');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Sample {
  at: number;
  rss: number;
  fds: number;
  lagP99: number;
  lagMean: number;
  flows: number;
}

type Call = { url: string; method?: 'GET' | 'POST'; body?: Buffer | string; headers?: Record<string, string>; plain?: boolean };

/** The cycle of requests every client walks through, from its own offset. */
function mix(https: Record<string, number>, http: Record<string, number>, imei: string, androidId: string): Call[] {
  const calls: Call[] = [];
  for (let i = 0; i < 20; i++) {
    const host = HOSTS[i % HOSTS.length];
    const s = `https://${host}:${https[host]}`;
    const p = `http://${host}:${http[host]}`;
    if (i === 7) calls.push({ url: `${s}/stream?bytes=300000` });
    else if (i === 13) calls.push({ url: `${s}/sink`, method: 'POST', body: UPLOAD, headers: { 'content-type': 'application/octet-stream' } });
    else if (i % 5 === 1) calls.push({ url: `${s}/sink`, method: 'POST', body: JSON.stringify({ device: { imei, model: 'bench' }, seq: i }), headers: { 'content-type': 'application/json' } });
    else if (i % 5 === 3) calls.push({ url: `${p}/small?android_id=${androidId}&n=${i}`, plain: true });
    else calls.push({ url: `${s}/small?n=${i}`, plain: false });
  }
  return calls;
}

interface WebSocketCounts {
  sent: number;
  answered: number;
  /** answered messages that carried the IMEI: each must be a stored flow before it reached the server */
  leakingAnswered: number;
  failedConnections: number;
}

/** One WebSocket through the proxy (CONNECT, then TLS trusting leakscope's CA): sends, waits for every answer, closes. */
async function webSocketRound(proxyPort: number, caPem: string, port: number, imei: string, counts: WebSocketCounts, end: number): Promise<void> {
  const socket = await tunnel(proxyPort, `127.0.0.1:${port}`);
  const secure = tls.connect({ socket, host: '127.0.0.1', ca: caPem });
  const ws = new WebSocket(`wss://127.0.0.1:${port}/socket`, { createConnection: () => secure });
  const leaking: boolean[] = [];
  let answered = 0;
  try {
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    // Answers come back in the order the messages were sent (the proxy keeps it): the k-th answers the k-th.
    ws.on('message', () => {
      if (leaking[answered]) counts.leakingAnswered++;
      answered++;
    });
    for (let i = 0; i < WS_MESSAGES_PER_CONNECTION && Date.now() < end; i++) {
      const leak = i % 4 === 0;
      leaking.push(leak);
      ws.send(JSON.stringify(leak ? { event: 'register', device: { imei }, seq: i } : { event: 'heartbeat', seq: i }));
      await sleep(WS_PAUSE_MS);
    }
    const deadline = Date.now() + REQUEST_LIMIT_MS;
    while (answered < leaking.length && Date.now() < deadline) await sleep(20);
  } finally {
    counts.sent += leaking.length;
    counts.answered += answered;
    ws.terminate();
  }
}

async function main(): Promise<number> {
  const running: Started[] = [];
  try {
    const upstream = await startUpstream(HOSTS);
    running.push(upstream);
    const leakscope = await startLeakscope(upstream.caFile);
    running.push(leakscope);
    const pid = leakscope.child.pid!;
    const ids = JSON.parse(fs.readFileSync(path.join(leakscope.dataDir, 'identifiers.json'), 'utf8')) as { devices: { imei: string[]; android_id: string[] }[] };
    const calls = mix(upstream.https, upstream.http, ids.devices[0].imei[0], ids.devices[0].android_id[0]);
    const proxy = `http://127.0.0.1:${leakscope.port}`;
    const tunnelled = new ProxyAgent({ uri: proxy, requestTls: { ca: leakscope.caPem } });
    // Plain HTTP the way phones send it to a proxy: absolute-form requests, no CONNECT.
    const plain = new ProxyAgent({ uri: proxy, proxyTunnel: false });

    say(`soak: ${MINUTES} min, ${CLIENTS} clients with ${PAUSE_MS} ms between requests, through leakscope (pid ${pid}) to ${HOSTS.join(', ')}`);
    say('minute  RSS MB  fds  loop p99 ms (max of 10 s windows)  loop mean ms  flows stored  requests ok  failed');
    let ok = 0;
    let failed = 0;
    const end = Date.now() + MINUTES * 60_000;
    const client = async (offset: number) => {
      for (let i = offset; Date.now() < end; i++) {
        const call = calls[i % calls.length];
        const dispatcher: Dispatcher = call.plain ? plain : tunnelled;
        try {
          const res = await request(call.url, { dispatcher, method: call.method ?? 'GET', body: call.body, headers: call.headers, signal: AbortSignal.timeout(REQUEST_LIMIT_MS) });
          await res.body.dump({ limit: Infinity });
          if (res.statusCode === 200) ok++;
          else failed++;
        } catch {
          failed++;
        }
        await sleep(PAUSE_MS);
      }
    };
    const webSockets: WebSocketCounts = { sent: 0, answered: 0, leakingAnswered: 0, failedConnections: 0 };
    const webSocketPhone = async () => {
      while (Date.now() < end) {
        try {
          await webSocketRound(leakscope.port, leakscope.caPem, upstream.https[HOSTS[0]], ids.devices[0].imei[0], webSockets, end);
        } catch {
          webSockets.failedConnections++;
          await sleep(PAUSE_MS);
        }
      }
    };
    const samples: Sample[] = [];
    const sampler = (async () => {
      let minute = 0;
      let okBefore = 0;
      let failedBefore = 0;
      while (Date.now() < end) {
        await sleep(Math.min(SAMPLE_MS, Math.max(0, end - Date.now())));
        const stats = (await (await fetch(`${leakscope.uiUrl}api/stats`, { signal: AbortSignal.timeout(10_000) })).json()) as StatsResponse;
        samples.push({
          at: Date.now(),
          rss: rssMb(pid).rss,
          fds: fs.readdirSync(`/proc/${pid}/fd`).length,
          lagP99: stats.eventLoopDelay.p99Ms,
          lagMean: stats.eventLoopDelay.meanMs,
          flows: stats.flows,
        });
        const perMinute = 60_000 / SAMPLE_MS;
        if (samples.length % perMinute === 0 || Date.now() >= end) {
          minute++;
          const last = samples.slice(-perMinute);
          const s = last[last.length - 1];
          say(`${String(minute).padStart(6)}  ${s.rss.toFixed(0).padStart(6)}  ${String(s.fds).padStart(3)}  ${Math.max(...last.map((x) => x.lagP99)).toFixed(1).padStart(36)}  ` +
            `${median(last.map((x) => x.lagMean)).toFixed(1).padStart(12)}  ${String(s.flows).padStart(12)}  ${String(ok - okBefore).padStart(11)}  ${String(failed - failedBefore).padStart(6)}`);
          okBefore = ok;
          failedBefore = failed;
        }
      }
    })();
    await Promise.all([...Array.from({ length: CLIENTS }, (_, i) => client(i * 3)), webSocketPhone(), sampler]);
    await tunnelled.close();
    await plain.close();
    const stored = ((await (await fetch(`${leakscope.uiUrl}api/stats`)).json()) as StatsResponse).flows;
    return verdict(samples, ok, failed, stored, webSockets);
  } finally {
    await Promise.all(running.map((p) => p.stop()));
  }
}

/**
 * The rule: the first third of the run is warm-up (JIT, caches, connection pools, SQLite's page cache filling).
 * Whatever grows without bound keeps growing after it, so the median of the last third of samples is compared
 * with the median of the middle third: RSS may not rise by more than 10% + 30 MB, open descriptors by more
 * than 10% + 20, event-loop p99 may not more than double + 20 ms (it is noisy on a shared machine). Also
 * fewer than 1% of requests may fail, flows must still be being stored in the last third, and there must be
 * at least as many flows stored as responses that completed (each response ends only once its flow is on disk)
 * and leaking WebSocket messages the server answered (each is passed on only once its flow is on disk). Every
 * WebSocket message must be answered, and no WebSocket connection may fail.
 */
function verdict(samples: Sample[], ok: number, failed: number, stored: number, ws: WebSocketCounts): number {
  const third = Math.floor(samples.length / 3);
  const middle = samples.slice(third, 2 * third);
  const last = samples.slice(2 * third);
  const problems: string[] = [];
  const check = (name: string, pick: (s: Sample) => number, factor: number, slack: number, unit: string) => {
    const m = median(middle.map(pick));
    const l = median(last.map(pick));
    const limit = m * factor + slack;
    say(`${name}: middle third ${m.toFixed(1)} ${unit}, last third ${l.toFixed(1)} ${unit} (limit ${limit.toFixed(1)})`);
    if (l > limit) problems.push(`${name} grew from ${m.toFixed(1)} to ${l.toFixed(1)} ${unit}`);
  };
  check('RSS', (s) => s.rss, 1.1, 30, 'MB');
  check('open fds', (s) => s.fds, 1.1, 20, '');
  check('event-loop p99', (s) => s.lagP99, 2, 20, 'ms');
  if (last.length < 2 || last[last.length - 1].flows <= last[0].flows) problems.push('no flows were stored in the last third');
  if (failed > (ok + failed) / 100) problems.push(`${failed} of ${ok + failed} requests failed`);
  if (stored < ok + ws.leakingAnswered) problems.push(`${ok} responses and ${ws.leakingAnswered} leaking WebSocket messages went through but only ${stored} flows are stored`);
  if (ws.answered < ws.sent) problems.push(`${ws.sent - ws.answered} of ${ws.sent} WebSocket messages were never answered`);
  if (ws.failedConnections > 0) problems.push(`${ws.failedConnections} WebSocket connections failed`);
  say(`requests: ${ok} ok, ${failed} failed; WebSocket messages: ${ws.sent} sent, ${ws.answered} answered (${ws.leakingAnswered} leaking), ${ws.failedConnections} connections failed; flows stored: ${stored}`);
  if (problems.length) {
    say(`FAIL: ${problems.join('; ')}`);
    return 1;
  }
  say('PASS: nothing grew without bound');
  return 0;
}

process.exitCode = await main();
