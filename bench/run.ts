// `npm run bench`: one run of every benchmark in CONTRACT.md's Performance section, printed as it goes.
// Direct, through leakscope and through its peers (mitmdump, mockttp), all driven by the same load generator
// (bench/load.ts).
// The machine is shared, so what to read are the ratios between configurations measured in this same run.
import os from 'node:os';
import { benchDashboard, dashboardReport } from './dashboard';
import { benchDetection, type CorpusThroughput } from './detect';
import { benchFirstRequest, benchMint } from './first-request';
import { benchIdle } from './idle';
import { benchLab, labReport } from './lab';
import { benchMemory } from './memory';
import { benchWireguard } from './wireguard';
import { benchWorkers } from './workers';
import { startLeakscope, type Started } from './processes';
import { benchProxies, fmt, startPeers } from './proxies';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const say = (line = '') => process.stdout.write(line + '\n');

function machine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${os.type()} ${os.release()}, Node ${process.version}`;
}

async function main(): Promise<void> {
  say(`machine: ${machine()}`);
  say(`load: ${CONNECTIONS} connections, ${SECONDS} s per measurement after 1 s warm-up; HTTPS upstream on 127.0.0.1; leakscope with detection on and 50 identifiers`);
  const running: Started[] = [];
  const track = <T extends Started>(p: T): T => (running.push(p), p);
  try {
    const peers = await startPeers(track, say);
    const { upstream, leakscope, mitmdump, mockttp } = peers;
    const base = `https://127.0.0.1:${upstream.port}`;
    await benchProxies(peers, CONNECTIONS, SECONDS, say);

    const mint = await benchMint();
    say(`certificate minting (in process): median ${mint.median.toFixed(2)} ms, p90 ${mint.p90.toFixed(2)} ms over ${mint.samples} new hosts`);
    const first = await benchFirstRequest(leakscope.port, leakscope.caPem, upstream.port);
    say(`first request to a new host: ${first.newHost.toFixed(1)} ms vs ${first.cachedHost.toFixed(1)} ms for a known host (added ${first.added.toFixed(1)} ms, target ≤ 5; new connection each, medians of ${first.samples})`);
    await leakscope.stop();
    await mitmdump?.stop();
    await mockttp.stop();
    await benchWorkers(CONNECTIONS, SECONDS, say);

    const d = await benchDetection();
    const show = (name: string, c: CorpusThroughput) =>
      say(`detection, ${name}: ${c.mbPerSecond50.toFixed(1)} MB/s with 50 identifiers, ${c.mbPerSecond1000.toFixed(1)} MB/s with 1,000 ` +
        `(${c.requests} requests, ${(c.bytes / 1024).toFixed(0)} KiB); only parsing the same requests: ${c.parseOnlyMbPerSecond.toFixed(1)} MB/s (detection ${(c.mbPerSecond50 / c.parseOnlyMbPerSecond).toFixed(2)}× that)`);
    show('small requests', d);
    show('10–100 KiB telemetry batches', d.large);
    say(`detection targets: ≥ 200 MB/s with 50 identifiers; with 1,000 ≥ 0.8× that (ratios ${d.ratio.toFixed(2)} and ${d.large.ratio.toFixed(2)})`);
    const worst = d.hostile[0];
    say(`detection, slowest of ${d.hostile.length} hostile ~1 MiB bodies: ${worst.name}, ${worst.ms.toFixed(0)} ms (${worst.perMibRatio.toFixed(1)}× a MiB of telemetry batches)`);

    // A fresh proxy, so that its peak RSS is this transfer's.
    const fresh = track(await startLeakscope(upstream.caFile));
    const m = await benchMemory(fresh.child.pid!, fresh.port, fresh.caPem, base);
    say(`memory: peak RSS ${m.peakMb.toFixed(0)} MB (idle ${m.baselineMb.toFixed(0)} MB, target ≤ 300) while 1 GiB went up and 1 GiB came down in ${m.seconds.toFixed(1)} s ` +
      `(${m.uploaded === 2 ** 30 && m.downloaded === 2 ** 30 ? 'all bytes arrived' : `uploaded ${m.uploaded}, downloaded ${m.downloaded}`})`);
    await fresh.stop();

    const quiet = track(await startLeakscope(upstream.caFile));
    const idle = await benchIdle(quiet.child.pid!, quiet.port, quiet.caPem, base);
    say(`idle connections: ${idle.opened.toLocaleString('en')} opened in ${idle.openSeconds.toFixed(1)} s and held, ${idle.cut} cut; ` +
      `proxy RSS ${idle.rssMb.before.toFixed(0)} → ${idle.rssMb.holding.toFixed(0)} → ${idle.rssMb.after.toFixed(0)} MB, ` +
      `fds ${idle.fds.before} → ${idle.fds.holding} → ${idle.fds.after}, a phone's request ${idle.phoneMs.before.toFixed(1)} → ${idle.phoneMs.holding.toFixed(1)} → ${idle.phoneMs.after.toFixed(1)} ms ` +
      `(before → holding → after; ×${(idle.phoneMs.holding / idle.phoneMs.before).toFixed(2)} while held)`);
    await quiet.stop();

    for (const line of dashboardReport(await benchDashboard())) say(line);
    for (const line of labReport(await benchLab())) say(line);

    const wg = await benchWireguard(CONNECTIONS, SECONDS);
    say(`WireGuard mode (phone namespace → wireguard-go → leakscope → upstream namespace, small answers): explicit proxy ${fmt(wg.explicit)}`);
    say(`WireGuard mode                                                                     : through the tunnel ${fmt(wg.wireguard)}`);
    say(`WireGuard mode/explicit proxy ${(wg.wireguard.rps / wg.explicit.rps).toFixed(2)}× req/s; ${wg.mitmdumpNote}`);
  } finally {
    await Promise.all(running.map((p) => p.stop()));
  }
}

await main();
