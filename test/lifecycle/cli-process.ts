// The real CLI in a child process, as a tester starts it; the ports it chose are read from what it prints.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

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
  const args = [BIN, 'start', '--data-dir', dataDir, '--proxy-host', '127.0.0.1', '--proxy-port', '0', '--ui-port', '0', ...extra];
  const [program, argv] = netns ? ['ip', ['netns', 'exec', netns, process.execPath, ...args]] : [process.execPath, args];
  const child = spawn(program, argv, { env: { ...process.env, LEAKSCOPE_LOG: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | NodeJS.Signals>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code ?? -1)));
  const deadline = Date.now() + 60_000; // a stale dashboard bundle is rebuilt first
  for (;;) {
    const proxy = /leakscope proxy\s+\S+:(\d+)/.exec(out);
    const ui = /dashboard\s+(http:\/\/\S+\/)/.exec(out);
    if (proxy && ui) return { child, proxyPort: Number(proxy[1]), uiUrl: ui[1], output: () => out, exited };
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`leakscope start did not come up:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
