// Live feed smoothness (issue 4: "stays smooth with 100,000 flows loaded and 200 new flows a second").
// A real leakscope in-process, a local HTTP upstream and headless Debian Chromium on the dashboard at 1280×800.
// Frame intervals are taken in the page (a requestAnimationFrame loop) in three phases:
//   1. baseline: empty dashboard, idle;
//   2. 100,000 flows loaded (seeded into the store, then loaded by the page as a tester reopening it), idle,
//      with wheel scrolling through the feed;
//   3. the same plus 200 real requests a second through the proxy for 10 s, a tenth of them carrying the
//      test phone's IMEI (flagged); some are marked to time response → row in the feed.
// The machine is shared: read each phase against the baseline of the same run, not the milliseconds alone.
// Search, timeline and matrix latency over the same 100,000 flows is timed through the API right after seeding.
//   node --import tsx bench/dashboard.ts            (everything)
//   node --import tsx bench/dashboard.ts --search   (only the API timings: search, timeline, matrix)
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { CDPSession, Page } from 'playwright-core';
import { ProxyAgent, request } from 'undici';
import type { Flow, Finding } from '../shared/types';
import { ensureDashboardBuilt, launchBrowser, PHONE, startApp, startUpstream, tempDataDir, waitLive } from '../test/browser/helpers';
import { quantile } from './stats';

const SEEDED = 100_000;
const IDLE_SECONDS = 5;
const LOAD_SECONDS = 10;
const LOAD_RATE = 200;
const MARK_EVERY = 50;
const FLAG_EVERY = 10;
const MAX_IN_FLIGHT = 100;
const DROPPED_MS = 50;
const ROW_PX = 34;
const LOAD_TIMEOUT_MS = 120_000;

export interface PhaseResult {
  name: string;
  seconds: number;
  frames: number;
  medianMs: number;
  p95Ms: number;
  /** median frame interval over the baseline's */
  medianRatio: number;
  p95Ratio: number;
  /** share of frame intervals over 50 ms */
  droppedShare: number;
  /** share of the phase the page's main thread was busy: the headroom a 60 Hz frame rate alone hides */
  busyShare: number;
  /** flows in the feed at the end of the phase */
  flowsHeld: number;
  /** distinct new flow rows that entered the DOM, per second (phases with new flows only) */
  rowsPerSecond?: number;
  /** feed rows scrolled past, down and up (34 px a row) */
  rowsScrolled: number;
  /** JSHeapUsedSize after a GC at the end of the phase, MiB */
  heapMiB: number;
}

export interface DashboardBench {
  phases: PhaseResult[];
  /** ms from reload to all seeded flows counted in the feed */
  loadMs: number;
  /** ms to seed the store */
  seedMs: number;
  /** the live requests; `flagged`: their flows the proxy flagged (a tenth carry the known IMEI) */
  load: { sent: number; ok: number; errors: number; skipped: number; sendRate: number; flagged: number };
  /** response received → its row in the DOM, over the marked requests */
  latency: { samples: number; missing: number; medianMs: number; p95Ms: number; maxMs: number };
  search: SearchTiming[];
  /** the timeline strip's counts, and the matrix narrowed to a time range */
  aggregates: SearchTiming[];
}

export interface SearchTiming {
  name: string;
  matches: number;
  medianMs: number;
  /** median over the peer's (the first row) */
  ratio: number;
}

/** Times each GET of `paths` (under /api/, median of SEARCH_RUNS); `matches` is what `count` reads in the answer. */
async function timeRequests(uiUrl: string, paths: [string, string][], count: (body: unknown) => number): Promise<SearchTiming[]> {
  const out: SearchTiming[] = [];
  for (const [name, query] of paths) {
    const times: number[] = [];
    let matches = 0;
    for (let run = 0; run < SEARCH_RUNS; run++) {
      const t = performance.now();
      const res = await fetch(`${uiUrl}api/${query}`);
      if (!res.ok) throw new Error(`${name}: ${res.status} ${await res.text()}`);
      matches = count(await res.json());
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    const medianMs = quantile(times, 0.5);
    out.push({ name, matches, medianMs, ratio: medianMs / (out[0]?.medianMs ?? medianMs) });
  }
  return out;
}

/** Times each of SEARCHES through the API of a leakscope holding the seeded flows. */
export async function benchSearch(uiUrl: string): Promise<SearchTiming[]> {
  const out = await timeRequests(uiUrl, SEARCHES.map(([name, q]) => [name, `flows?limit=200&${q}`]), (body) => (body as unknown[]).length);
  if (out[1].matches !== 1) throw new Error(`the rare word found ${out[1].matches} flows, not 1`);
  return out;
}

/** Times the timeline's counts (and the matrix) over the seeded flows; `now` is the seeding's. */
export async function benchAggregates(uiUrl: string, now: number): Promise<SearchTiming[]> {
  const hour = `from=${now - 2 * 3_600_000}&to=${now - 3_600_000}`;
  const paths: [string, string][] = [
    ['summary (the matrix)', 'summary'],
    ['timeline', 'timeline'],
    ['timeline ~t imei', `timeline?filter=${encodeURIComponent('~t imei')}`],
    ['timeline of a session', 'timeline?session=1'],
    ['flows in one hour', `flows?limit=200&${hour}`],
    ['summary of one hour', `summary?${hour}`],
  ];
  return timeRequests(uiUrl, paths, (body) => {
    const b = body as { buckets?: unknown[]; rows?: unknown[] } | unknown[];
    return Array.isArray(b) ? b.length : (b.buckets ?? b.rows ?? []).length;
  });
}

export function searchReport(rows: SearchTiming[]): string[] {
  return [
    `search over ${SEEDED.toLocaleString('en')} flows (GET /api/flows, 200 newest matches, median of ${SEARCH_RUNS}):`,
    ...rows.map((r) => `  ${r.name.padEnd(24)} ${String(r.matches).padStart(4)} shown  ${r.medianMs.toFixed(1).padStart(7)} ms  ×peer ${r.ratio.toFixed(2)}`),
  ];
}

export function aggregatesReport(rows: SearchTiming[]): string[] {
  return [
    `timeline and matrix over ${SEEDED.toLocaleString('en')} flows (median of ${SEARCH_RUNS}; rows: buckets, matrix rows or flows):`,
    ...rows.map((r) => `  ${r.name.padEnd(24)} ${String(r.matches).padStart(4)} rows   ${r.medianMs.toFixed(1).padStart(7)} ms  ×summary ${r.ratio.toFixed(2)}`),
  ];
}

/** Only the API part: seed a leakscope with the same 100,000 flows and time the searches, timeline and matrix. */
export async function benchSearchOnly(): Promise<string[]> {
  const dataDir = tempDataDir('bench-search');
  const app = await startApp(dataDir);
  try {
    const now = Date.now();
    for (let i = 0; i < SEEDED; i++) app.store.add(seedFlow(i, now));
    const url = `http://127.0.0.1:${app.uiPort}/`;
    return [...searchReport(await benchSearch(url)), ...aggregatesReport(await benchAggregates(url, now))];
  } finally {
    await app.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

const HOSTS = [
  'app-measurement.com', 'graph.facebook.com', 'alog.umeng.com', 'data.mistat.xiaomi.com', 'api.adjust.com',
  'events.appsflyer.com', 'sdk.hockeyapp.net', 'cdn.shop-example.com', 'api.shop-example.com', 'img.shop-example.com',
  'tracking.miui.com', 'sa.api.intl.miui.com', 'firebaselogging-pa.googleapis.com', 'config.uca.cloud.unity3d.com',
  'ads.mopub.com', 'api.weather-example.net', 'log.tbs.qq.com', 'mtalk.google.com',
];
const PATHS = ['/v1/events', '/api/v6.5/androidevent', '/app_logs', '/collect', '/config', '/img/banner.webp', '/search', '/v2/batch', '/ping', '/sdk/init'];
const COUNTRIES = ['US', 'CN', 'IE', 'SG', 'DE', undefined];
/** one seeded request body holds this word: search must find it among 100,000 */
const RARE_WORD = 'zanzibar_checkout';
const RARE_AT = 52_000;
const SEARCH_RUNS = 7;
/** Searches timed through GET /api/flows (200 newest matches, as the dashboard's first page asks): the URL-substring
 *  `q=` of before as the peer, then full text and filter expressions over the same 100,000 flows. */
const SEARCHES: [string, string][] = [
  ['q= URL substring (peer)', 'q=androidevent'],
  ['word in one body', `filter=${RARE_WORD}`],
  ['word in many bodies', 'filter=screen_view'],
  ['~u androidevent', 'filter=~u+androidevent'],
  ['~dev & ~cc & ~t', `filter=${encodeURIComponent('~dev 192.168 & ~cc US & ~t imei')}`],
  ['!~t imei & ~m post', `filter=${encodeURIComponent('!~t imei & ~m post')}`],
  ['~enc md5', 'filter=~enc+md5'],
];

/** A day of captured flows from two phones: varied hosts and paths, a tenth flagged with one to three findings. */
export function seedFlow(i: number, now: number): Omit<Flow, 'id'> {
  const host = HOSTS[i % HOSTS.length];
  const client = i % 3 === 0 ? '192.168.1.23' : '127.0.0.1';
  const device = client === '127.0.0.1' ? PHONE.name : undefined;
  const findings: Finding[] = [];
  if (i % FLAG_EVERY === 0) {
    findings.push({ type: 'imei', value: PHONE.imei, where: 'body', path: 'device.imei', encoding: i % 20 === 0 ? 'md5+hex' : '', confidence: 'known', device });
    if (i % 30 === 0) findings.push({ type: 'advertising_id', value: '38400000-8cf0-11bd-b23e-10b96e40000d', where: 'url', path: 'gaid', encoding: '', confidence: 'pattern' });
    if (i % 70 === 0) findings.push({ type: 'email', value: PHONE.email, where: 'header', path: 'x-user', encoding: 'base64', confidence: 'known', device });
  }
  const post = i % 4 === 0;
  const url = `https://${host}${PATHS[i % PATHS.length]}?seq=${i}&sid=${(i * 2654435761) >>> 0}`;
  return {
    client,
    device,
    method: post ? 'POST' : 'GET',
    url,
    host,
    httpVersion: '1.1',
    requestHeaders: { host, 'user-agent': 'Dalvik/2.1.0 (Linux; U; Android 13; Pixel 7)', ...(post ? { 'content-type': 'application/json' } : {}) },
    requestBody: post ? { text: JSON.stringify({ seq: i, event: i === RARE_AT ? RARE_WORD : 'screen_view', ts: now }), size: 60 } : undefined,
    status: i % 97 === 0 ? 404 : 200,
    responseHeaders: { 'content-type': 'application/json' },
    responseBody: { text: '{"ok":true}', size: 200 + ((i * 37) % 40_000) },
    timings: { start: now - (SEEDED - i) * 250, wait: 40, total: 55 },
    findings,
    tags: findings.length && i % 60 === 0 ? ['foreign'] : [],
    destination: { domain: host.split('.').slice(-2).join('.'), country: COUNTRIES[i % COUNTRIES.length], scope: 'public' },
  };
}

// Plain JavaScript, not a function: tsx would wrap a function's inner closures in a helper the page lacks.
const PROBES = `(() => {
  const deltas = [];
  const rowsSeen = new Set();
  const marks = {};
  let last = 0;
  let recording = false;
  let minId = Infinity;
  let scrolled = 0;
  let lastTop = 0;
  const tick = (t) => {
    if (recording && last) deltas.push(t - last);
    last = t;
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  const list = document.querySelector('[data-testid=feed-list]');
  if (!list) throw new Error('no feed list');
  new MutationObserver((records) => {
    const now = Date.now();
    for (const r of records) {
      for (const n of r.addedNodes) {
        if (!(n instanceof HTMLElement)) continue;
        for (const row of n.matches('[data-flow-id]') ? [n] : n.querySelectorAll('[data-flow-id]')) {
          const id = Number(row.dataset.flowId);
          if (recording && id >= minId) rowsSeen.add(id);
          const mark = /\\/mark\\/(\\d+)/.exec(row.querySelector('.c-path')?.textContent ?? '');
          if (mark && !(mark[1] in marks)) marks[mark[1]] = now;
        }
      }
    }
  }).observe(list, { childList: true, subtree: true });
  list.addEventListener('scroll', () => {
    if (recording) scrolled += Math.abs(list.scrollTop - lastTop);
    lastTop = list.scrollTop;
  }, { passive: true });
  window.__bench = {
    start(newAbove) {
      deltas.length = 0;
      rowsSeen.clear();
      minId = newAbove;
      scrolled = 0;
      lastTop = list.scrollTop;
      last = 0;
      recording = true;
    },
    stop() {
      recording = false;
      return { deltas: [...deltas], rows: rowsSeen.size, scrolledPx: scrolled };
    },
    marks: () => ({ ...marks }),
  };
})()`;

/** Installed once per page load: frame deltas, and when each new row (and each marked path) first entered the DOM. */
function installProbes(page: Page): Promise<void> {
  return page.evaluate(PROBES);
}

interface Recording {
  deltas: number[];
  rows: number;
  scrolledPx: number;
}

async function metric(cdp: CDPSession, name: string): Promise<number> {
  const { metrics } = (await cdp.send('Performance.getMetrics')) as { metrics: { name: string; value: number }[] };
  return metrics.find((m) => m.name === name)?.value ?? NaN;
}

/** After a full GC, so phases compare what the page retains rather than where the collector happened to be. */
async function heapMiB(cdp: CDPSession): Promise<number> {
  await cdp.send('HeapProfiler.collectGarbage');
  return (await metric(cdp, 'JSHeapUsedSize')) / 2 ** 20;
}

async function feedCount(page: Page): Promise<number> {
  const text = (await page.textContent('[data-testid=feed-count]')) ?? '';
  return Number(/^([\d,]+) shown/.exec(text)?.[1].replace(/,/g, '') ?? NaN);
}

interface Measured {
  rec: Recording;
  seconds: number;
  /** share of the phase the renderer's main thread spent in tasks (CDP TaskDuration) */
  busyShare: number;
}

async function record(page: Page, cdp: CDPSession, newAbove: number, during: () => Promise<void>): Promise<Measured> {
  await page.evaluate((n) => (window as unknown as { __bench: { start(n: number): void } }).__bench.start(n), newAbove);
  const busy0 = await metric(cdp, 'TaskDuration');
  const t0 = performance.now();
  await during();
  const rec = await page.evaluate(() => (window as unknown as { __bench: { stop(): Recording } }).__bench.stop());
  const seconds = (performance.now() - t0) / 1000;
  return { rec, seconds, busyShare: ((await metric(cdp, 'TaskDuration')) - busy0) / seconds };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Wheel down through the feed, then back up to the top, over `seconds`. */
async function scrollFeed(page: Page, seconds: number): Promise<void> {
  await page.hover('[data-testid=feed-list]');
  const steps = seconds * 8;
  for (let i = 0; i < steps; i++) {
    await page.mouse.wheel(0, i < steps / 2 ? 1200 : -1200);
    await sleep(125);
  }
}

/**
 * 200 requests a second through the proxy for LOAD_SECONDS, paced in 50 ms ticks. Never more than
 * MAX_IN_FLIGHT at once (the rest of a tick is skipped and counted); in-flight ones get 10 s to finish.
 */
async function drive(proxyPort: number, upstreamPort: number): Promise<{ sent: number; ok: number; errors: number; skipped: number; seconds: number; marked: Map<number, number> }> {
  const agent = new ProxyAgent({ uri: `http://127.0.0.1:${proxyPort}`, connections: 32 });
  const marked = new Map<number, number>();
  const inFlight = new Set<Promise<void>>();
  let sent = 0;
  let ok = 0;
  let errors = 0;
  let skipped = 0;
  const total = LOAD_RATE * LOAD_SECONDS;
  const t0 = performance.now();
  const one = async (n: number) => {
    const mark = n % MARK_EVERY === 0;
    const flagged = n % FLAG_EVERY === 3;
    const path = mark ? `/mark/${n}` : `/live/${n}`;
    const query = flagged ? `?imei=${PHONE.imei}` : `?seq=${n}`;
    try {
      const res = await request(`http://127.0.0.1:${upstreamPort}${path}${query}`, { dispatcher: agent, headersTimeout: 10_000, bodyTimeout: 10_000 });
      await res.body.text();
      if (mark) marked.set(n, Date.now());
      ok++;
    } catch {
      errors++;
    }
  };
  try {
    for (let n = 0; n < total; ) {
      const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * LOAD_RATE) + 1);
      for (; n < due; n++) {
        if (inFlight.size >= MAX_IN_FLIGHT) {
          skipped++;
          continue;
        }
        sent++;
        const p = one(n).finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
      if (performance.now() - t0 > LOAD_SECONDS * 1000 + 1000) break;
      await sleep(50);
    }
    const seconds = (performance.now() - t0) / 1000;
    await Promise.race([Promise.all(inFlight), sleep(10_000)]);
    return { sent, ok, errors, skipped, seconds, marked };
  } finally {
    await agent.close();
  }
}

async function phase(name: string, m: Measured, page: Page, cdp: CDPSession, opts: { base?: PhaseResult; newFlows?: boolean } = {}): Promise<PhaseResult> {
  const { base } = opts;
  const { rec, seconds } = m;
  const sorted = [...rec.deltas].sort((a, b) => a - b);
  const medianMs = quantile(sorted, 0.5);
  const p95Ms = quantile(sorted, 0.95);
  return {
    name,
    seconds,
    frames: sorted.length,
    medianMs,
    p95Ms,
    medianRatio: base ? medianMs / base.medianMs : 1,
    p95Ratio: base ? p95Ms / base.p95Ms : 1,
    droppedShare: sorted.length ? sorted.filter((d) => d > DROPPED_MS).length / sorted.length : NaN,
    busyShare: m.busyShare,
    flowsHeld: await feedCount(page),
    rowsPerSecond: opts.newFlows ? rec.rows / seconds : undefined,
    rowsScrolled: Math.round(rec.scrolledPx / ROW_PX),
    heapMiB: await heapMiB(cdp),
  };
}

export async function benchDashboard(): Promise<DashboardBench> {
  await ensureDashboardBuilt();
  const dataDir = tempDataDir('bench-dashboard');
  const [app, upstream, browser] = await Promise.all([startApp(dataDir), startUpstream(), launchBrowser()]);
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.setDefaultTimeout(10_000);
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    const url = `http://127.0.0.1:${app.uiPort}/`;

    await page.goto(url);
    await waitLive(page);
    await installProbes(page);
    await sleep(500);
    const baseline = await phase('1 empty, idle', await record(page, cdp, Infinity, () => sleep(IDLE_SECONDS * 1000)), page, cdp);

    const seedStart = performance.now();
    const now = Date.now();
    for (let i = 0; i < SEEDED; i++) app.store.add(seedFlow(i, now));
    const seedMs = performance.now() - seedStart;
    const search = await benchSearch(url);
    const aggregates = await benchAggregates(url, now);

    const loadStart = performance.now();
    await page.goto(url);
    await waitLive(page);
    // Bounded: a dashboard that holds fewer flows by design stops growing, and we measure what it holds.
    let held = 0;
    let loadMs = 0;
    for (let stable = 0; held < SEEDED && stable < 10 && performance.now() - loadStart < LOAD_TIMEOUT_MS; ) {
      await sleep(200);
      const n = await feedCount(page);
      stable = n === held ? stable + 1 : 0;
      if (n !== held) loadMs = performance.now() - loadStart;
      held = n;
    }
    await installProbes(page);
    await sleep(1000);
    const idle = await record(page, cdp, Infinity, () => scrollFeed(page, IDLE_SECONDS));
    const loaded = await phase('2 100k, scrolling', idle, page, cdp, { base: baseline });
    await page.evaluate(() => document.querySelector('[data-testid=feed-list]')?.scrollTo(0, 0));
    await sleep(500);

    let result: Awaited<ReturnType<typeof drive>> | undefined;
    const seededLastId = app.store.lastId();
    const live = await record(page, cdp, seededLastId + 1, async () => {
      result = await drive(app.proxyPort, upstream.port);
    });
    // The last rows land a moment after the last response.
    const liveDone = performance.now();
    while ((await feedCount(page)) < held + (result?.ok ?? 0) && performance.now() - liveDone < 5000) await sleep(100);
    const seen = await page.evaluate(() => (window as unknown as { __bench: { marks(): Record<string, number> } }).__bench.marks());
    const loadPhase = await phase('3 100k + 200/s', live, page, cdp, { base: baseline, newFlows: true });
    if (!result) throw new Error('load did not run');

    const lat: number[] = [];
    let missing = 0;
    for (const [n, responded] of result.marked) {
      const at = seen[String(n)];
      if (at === undefined) missing++;
      else lat.push(Math.max(0, at - responded));
    }
    lat.sort((x, y) => x - y);
    return {
      phases: [baseline, loaded, loadPhase],
      loadMs,
      seedMs,
      load: { sent: result.sent, ok: result.ok, errors: result.errors, skipped: result.skipped, sendRate: result.sent / result.seconds, flagged: app.store.summaries({ flagged: true, after: seededLastId, limit: 5000 }).length },
      latency: { samples: lat.length, missing, medianMs: quantile(lat, 0.5), p95Ms: quantile(lat, 0.95), maxMs: lat.at(-1) ?? NaN },
      search,
      aggregates,
    };
  } finally {
    await browser.close();
    await app.close();
    await upstream.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The result as printed lines, for this script and for `npm run bench`. */
export function dashboardReport(r: DashboardBench): string[] {
  const f = (n: number, d = 1) => n.toFixed(d).padStart(7);
  return [
    `dashboard: seeded ${SEEDED.toLocaleString('en')} flows in ${(r.seedMs / 1000).toFixed(1)} s; the page loaded them in ${(r.loadMs / 1000).toFixed(1)} s`,
    'phase                frames  median ms  p95 ms  ×baseline (median / p95)  >50 ms  main busy  flows held  new rows/s  rows scrolled  JS heap MiB',
    ...r.phases.map(
      (p) =>
        `${p.name.padEnd(20)} ${String(p.frames).padStart(6)} ${f(p.medianMs, 1).padStart(10)} ${f(p.p95Ms)}  ${`${p.medianRatio.toFixed(2)} / ${p.p95Ratio.toFixed(2)}`.padStart(24)}  ${f(p.droppedShare * 100)}% ${f(p.busyShare * 100).padStart(9)}% ${String(p.flowsHeld).padStart(11)} ${(p.rowsPerSecond === undefined ? '–' : p.rowsPerSecond.toFixed(0)).padStart(11)} ${String(p.rowsScrolled).padStart(14)} ${f(p.heapMiB).padStart(12)}`,
    ),
    `load: ${r.load.sent} requests sent (${r.load.sendRate.toFixed(0)}/s), ${r.load.ok} ok, ${r.load.errors} errors, ${r.load.skipped} skipped (too many in flight), ${r.load.flagged} flagged`,
    `response → row in the feed: median ${r.latency.medianMs.toFixed(0)} ms, p95 ${r.latency.p95Ms.toFixed(0)} ms, max ${r.latency.maxMs.toFixed(0)} ms (${r.latency.samples} marked requests, ${r.latency.missing} never seen)`,
    ...searchReport(r.search),
    ...aggregatesReport(r.aggregates),
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  // `--search`: only the search timings (no browser)
  const lines = process.argv.includes('--search') ? await benchSearchOnly() : dashboardReport(await benchDashboard());
  for (const line of lines) console.log(line);
}
