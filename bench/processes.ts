// The processes a benchmark run needs: the upstream, leakscope (the real CLI), mitmdump and mockttp, each started
// on free 127.0.0.1 ports and stopped at the end.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { luhnCheckDigit } from '../proxy/detect/patterns/validators';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface Started {
  child: ChildProcess;
  stop(): Promise<void>;
}

/** `dirs` (temp data: a soak's database runs to gigabytes) are removed once the process is gone. */
function started(child: ChildProcess, dirs: string[] = []): Started {
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    child,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
      for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Waits for a line of the child's stdout matching `pattern`; bounded. */
function waitForLine(child: ChildProcess, pattern: RegExp, what: string, timeoutMs = 60_000): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start:\n${out}`)), timeoutMs);
    const onData = (c: Buffer) => {
      out += c.toString();
      const m = pattern.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        resolve(m);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    child.once('exit', () => reject(new Error(`${what} exited:\n${out}`)));
  });
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface Upstream extends Started {
  /** HTTPS port on the first host */
  port: number;
  caFile: string;
  caPem: string;
  /** host → port, per loopback address served */
  https: Record<string, number>;
  /** HTTPS port speaking HTTP/2 (and HTTP/1.1 to clients offering only that) on the first host */
  h2: number;
  http: Record<string, number>;
}

export async function startUpstream(hosts = ['127.0.0.1']): Promise<Upstream> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench/upstream-server.ts'), '--hosts', hosts.join(',')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const [line] = await waitForLine(child, /^\{.*\}$/m, 'the bench upstream');
  const info = JSON.parse(line) as Omit<Upstream, keyof Started | 'caPem'>;
  return { ...started(child), ...info, caPem: fs.readFileSync(info.caFile, 'utf8') };
}

/** 50 known identifiers for one device: what a tester typically loads. */
export function fiftyIdentifiers(file: string): void {
  const n = (i: number) => String(i).padStart(4, '0');
  const ids = Array.from({ length: 10 }, (_, i) => i);
  const imei = ids.map((i) => `35${n(i)}00112233`).map((b) => b + luhnCheckDigit(b));
  const device = {
    name: 'bench phone',
    imei,
    phone_number: ids.map((i) => `+1 202 555 ${n(i)}`),
    android_id: ids.map((i) => `9774d56d682e${n(i)}`),
    email: ids.map((i) => `tester${i}@example.org`),
    serial_number: ids.map((i) => `RM1S00${n(i)}`),
  };
  fs.writeFileSync(file, JSON.stringify({ devices: [device] }));
}

export async function startLeakscope(upstreamCaFile: string, extra: string[] = []): Promise<Started & { port: number; uiUrl: string; caPem: string; dataDir: string }> {
  const dataDir = tempDir('leakscope-bench-');
  const identifiers = path.join(dataDir, 'identifiers.json');
  fiftyIdentifiers(identifiers);
  // BENCH_CPU_PROF=DIR: each leakscope writes a CPU profile there when it stops (open in Chrome DevTools).
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(process.env.BENCH_CPU_PROF)}`] : [];
  const args = [...profile, 'bin/leakscope.js', 'start', '--data-dir', dataDir, '--proxy-host', '127.0.0.1', '--proxy-port', '0', '--ui-port', '0',
    '--identifiers', identifiers, '--upstream-ca', upstreamCaFile, ...extra];
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, LEAKSCOPE_LOG: 'error' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const m = await waitForLine(child, /leakscope proxy\s+127\.0\.0\.1:(\d+)[^]*?dashboard\s+(http:\/\/\S+)/, 'leakscope');
  return { ...started(child, [dataDir]), port: Number(m[1]), uiUrl: m[2], caPem: fs.readFileSync(path.join(dataDir, 'ca', 'certs', 'ca.pem'), 'utf8'), dataDir };
}

export function mitmdumpInstalled(): boolean {
  return spawnSync('mitmdump', ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * mitmdump with its own confdir (its CA is created there), trusting the upstream's CA, flows not printed. With
 * `keepLog` it logs at info level and `log()` returns all of it (bench/fidelity.ts reads what it says of TLS).
 */
export async function startMitmdump(upstreamCaFile: string, opts: { keepLog?: boolean } = {}): Promise<Started & { port: number; caPem: string; log: () => string }> {
  const confdir = tempDir('leakscope-bench-mitmdump-');
  const port = await freePort();
  const child = spawn('mitmdump', ['--listen-host', '127.0.0.1', '--listen-port', String(port), '--set', `confdir=${confdir}`,
    '--set', `ssl_verify_upstream_trusted_ca=${upstreamCaFile}`, '--set', 'flow_detail=0', '--set', `termlog_verbosity=${opts.keepLog ? 'info' : 'error'}`],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  // Its output must be drained or it blocks on a full pipe mid-run; the tail is kept to say why it failed.
  const keep = opts.keepLog ? 4_000_000 : 4000;
  let tail = '';
  const onOutput = (c: Buffer) => (tail = (tail + c.toString()).slice(-keep));
  child.stdout!.on('data', onOutput);
  child.stderr!.on('data', onOutput);
  const caFile = path.join(confdir, 'mitmproxy-ca-cert.pem');
  const deadline = Date.now() + 30_000;
  // mitmdump prints nothing at this verbosity: wait for its CA file and its port.
  for (;;) {
    const listening = await new Promise<boolean>((r) => net.connect(port, '127.0.0.1').once('connect', function (this: net.Socket) { this.destroy(); r(true); }).once('error', () => r(false)));
    if (listening && fs.existsSync(caFile)) break;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`mitmdump did not start:\n${tail}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { ...started(child, [confdir]), port, caPem: fs.readFileSync(caFile, 'utf8'), log: () => tail };
}

/** mockttp as a pass-through proxy (bench/mockttp-proxy.ts), trusting the upstream's CA, with its own CA. */
export async function startMockttp(upstreamCaFile: string): Promise<Started & { port: number; caPem: string }> {
  const dir = tempDir('leakscope-bench-mockttp-');
  const caFile = path.join(dir, 'ca.pem');
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench/mockttp-proxy.ts'), String(port), upstreamCaFile, caFile],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  await waitForLine(child, /^listening$/m, 'mockttp');
  return { ...started(child, [dir]), port, caPem: fs.readFileSync(caFile, 'utf8') };
}

/** Current and peak resident set size of a process, in MB (Linux /proc). */
export function rssMb(pid: number): { rss: number; peak: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}
