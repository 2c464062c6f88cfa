// The real CLI in a child process, as a tester starts it; the ports it chose are read from what it prints.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sharedStoreFor, whenStopped } from '../helpers/shared-store';

// import.meta rather than __dirname: the WireGuard bench (plain node, ESM) starts the CLI through this too
const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/leakscope.js');

export interface CliProcess {
  child: ChildProcess;
  proxyPort: number;
  uiUrl: string;
  output: () => string;
  exited: Promise<number | NodeJS.Signals>;
}

/** `netns`: run it inside that network namespace (`ip netns exec`), as the WireGuard and transparent tests do. */
export async function startCli(dataDir: string, extra: string[] = [], netns?: string): Promise<CliProcess> {
  // The suite's postgres pass (test/helpers/shared-store.ts): a lab's shared store too, unless the test chose one.
  // Not inside a network namespace: the cluster listens on the host's loopback.
  const store = netns || extra.includes('--store') ? undefined : await sharedStoreFor(dataDir);
  const args = ['start', '--data-dir', dataDir, '--proxy-host', '127.0.0.1', '--proxy-port', '0', '--ui-port', '0', ...extra, ...(store ? ['--store', store] : [])];
  const { child, output, exited, found } = await spawnCli(args, [/leakscope proxy\s+\S+:(\d+)/, /dashboard\s+(http:\/\/\S+\/)/], netns);
  if (store) whenStopped(dataDir, () => exitedWithin(exited, 30_000, `leakscope start on ${dataDir}`));
  return { child, proxyPort: Number(found[0]), uiUrl: found[1], output, exited };
}

/** `exited`, or an error once `ms` have passed: a test must stop what it started. */
function exitedWithin(exited: Promise<unknown>, ms: number, what: string): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} still runs after its test file`)), ms)));
  return Promise.race([exited, late]).finally(() => clearTimeout(timer));
}

/** `leakscope dashboard --store URL`: a lab's dashboard node. */
export async function startDashboardCli(store: string): Promise<Omit<CliProcess, 'proxyPort'>> {
  const { child, output, exited, found } = await spawnCli(['dashboard', '--store', store, '--ui-port', '0'], [/dashboard\s+(http:\/\/\S+\/)/]);
  return { child, uiUrl: found[0], output, exited };
}

/** Runs the CLI with `args`; resolves once its output has matched each of `ready`, with their first groups. */
async function spawnCli(args: string[], ready: RegExp[], netns?: string) {
  const [program, argv] = netns ? ['ip', ['netns', 'exec', netns, process.execPath, BIN, ...args]] : [process.execPath, [BIN, ...args]];
  const child = spawn(program, argv, { env: { ...process.env, LEAKSCOPE_LOG: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | NodeJS.Signals>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code ?? -1)));
  const deadline = Date.now() + 60_000; // a stale dashboard bundle is rebuilt first
  for (;;) {
    const matches = ready.map((re) => re.exec(out));
    if (matches.every(Boolean)) return { child, output: () => out, exited, found: matches.map((m) => m![1]) };
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`leakscope ${args[0]} did not come up:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
