// 10,000 connections that open and then send nothing (a scanner on the lab network, a buggy app): the proxy
// must hold them within bounded memory and descriptors, keep serving a phone at the same speed, and let go of
// every one when they leave. Measured against the real CLI in its own process.
import fs from 'node:fs';
import net from 'node:net';
import { ProxyAgent, request } from 'undici';
import { rssMb } from './processes';
import { median } from './stats';

const IDLE = 10_000;
const BATCH = 500;
const OPEN_DEADLINE_MS = 120_000;
const PHONE_REQUESTS = 30;

export interface IdleBench {
  opened: number;
  openSeconds: number;
  rssMb: { before: number; holding: number; after: number };
  fds: { before: number; holding: number; after: number };
  /** median ms of a phone's request through the proxy */
  phoneMs: { before: number; holding: number; after: number };
  /** idle connections the proxy cut while they were held (its header timeout is longer than the hold) */
  cut: number;
}

const openFds = (pid: number) => fs.readdirSync(`/proc/${pid}/fd`).length;

function openIdle(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

async function phoneMedian(agent: ProxyAgent, url: string): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < PHONE_REQUESTS; i++) {
    const t0 = performance.now();
    const res = await request(url, { dispatcher: agent, headersTimeout: 10_000, bodyTimeout: 10_000 });
    await res.body.dump();
    if (res.statusCode !== 200) throw new Error(`phone request: HTTP ${res.statusCode}`);
    times.push(performance.now() - t0);
  }
  return median(times);
}

export async function benchIdle(proxyPid: number, proxyPort: number, caPem: string, upstreamUrl: string): Promise<IdleBench> {
  const agent = new ProxyAgent({ uri: `http://127.0.0.1:${proxyPort}`, requestTls: { ca: caPem }, connections: 1 });
  const url = `${upstreamUrl}/small`;
  const sockets: net.Socket[] = [];
  let cut = 0;
  try {
    await phoneMedian(agent, url); // certificate minted, connection open: the phone is warm
    const before = { rss: rssMb(proxyPid).rss, fds: openFds(proxyPid), phone: await phoneMedian(agent, url) };

    const t0 = performance.now();
    while (sockets.length < IDLE && performance.now() - t0 < OPEN_DEADLINE_MS) {
      const batch = await Promise.all(Array.from({ length: Math.min(BATCH, IDLE - sockets.length) }, () => openIdle(proxyPort)));
      for (const s of batch) {
        s.on('error', () => {});
        s.once('close', () => cut++);
      }
      sockets.push(...batch);
    }
    const openSeconds = (performance.now() - t0) / 1000;
    const holding = { rss: rssMb(proxyPid).rss, fds: openFds(proxyPid), phone: await phoneMedian(agent, url) };
    const cutWhileHeld = cut;

    for (const s of sockets) s.destroy();
    // Give the proxy a moment to see every close, bounded.
    const settle = performance.now();
    while (openFds(proxyPid) > before.fds + 50 && performance.now() - settle < 10_000) await new Promise((r) => setTimeout(r, 100));
    const after = { rss: rssMb(proxyPid).rss, fds: openFds(proxyPid), phone: await phoneMedian(agent, url) };

    return {
      opened: sockets.length,
      openSeconds,
      rssMb: { before: before.rss, holding: holding.rss, after: after.rss },
      fds: { before: before.fds, holding: holding.fds, after: after.fds },
      phoneMs: { before: before.phone, holding: holding.phone, after: after.phone },
      cut: cutWhileHeld,
    };
  } finally {
    for (const s of sockets) s.destroy();
    await agent.close();
  }
}
