// Network namespaces a test makes and deletes: every address a WireGuard or transparent-mode test uses lives in
// them. Names carry a random suffix; `cleanup` kills what was started in them (by pid), deletes them and their
// /etc/netns files, and is safe to call after a failure half-way.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | NodeJS.Signals>;
}

export function sh(program: string, args: string[], input?: string, timeoutMs = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(program, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${program} ${args.join(' ')}: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
    // a program that exits without reading its input must not turn into an EPIPE here
    child.stdin!.on('error', () => undefined);
    child.stdin!.end(input ?? '');
  });
}

export class Lab {
  readonly suffix = crypto.randomBytes(3).toString('hex');
  private readonly namespaces: string[] = [];
  private readonly children: ChildProcess[] = [];
  private veths = 0;

  /** A namespace named `${role}-${suffix}`, loopback up. */
  async namespace(role: string): Promise<string> {
    const name = `ls${role}-${this.suffix}`;
    await sh('ip', ['netns', 'add', name]);
    this.namespaces.push(name);
    await sh('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    return name;
  }

  /** A veth pair between two namespaces, each end with its address (CIDR). */
  async link(a: string, addressA: string, b: string, addressB: string): Promise<void> {
    const n = this.veths++;
    const ea = `va${n}${this.suffix}`;
    const eb = `vb${n}${this.suffix}`;
    await sh('ip', ['link', 'add', ea, 'netns', a, 'type', 'veth', 'peer', 'name', eb, 'netns', b]);
    await sh('ip', ['-n', a, 'address', 'add', addressA, 'dev', ea]);
    await sh('ip', ['-n', b, 'address', 'add', addressB, 'dev', eb]);
    await sh('ip', ['-n', a, 'link', 'set', ea, 'up']);
    await sh('ip', ['-n', b, 'link', 'set', eb, 'up']);
  }

  /** A file `ip netns exec` binds over /etc/NAME in that namespace (hosts, resolv.conf). */
  etcFile(ns: string, name: string, text: string): void {
    const dir = path.join('/etc/netns', ns);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }

  exec(ns: string, program: string, args: string[], input?: string, timeoutMs?: number): Promise<string> {
    return sh('ip', ['netns', 'exec', ns, program, ...args], input, timeoutMs);
  }

  /** A long-running process in a namespace, killed at cleanup if it is still running. */
  start(ns: string, program: string, args: string[], env: NodeJS.ProcessEnv = {}): Started {
    const child = spawn('ip', ['netns', 'exec', ns, program, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.push(child);
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | NodeJS.Signals>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code ?? -1)));
    return { child, output: () => out, exited };
  }

  async cleanup(): Promise<void> {
    for (const child of this.children) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      // TERM first: wireguard-go removes its control socket (/var/run/wireguard, shared by all namespaces)
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const force = setTimeout(() => child.kill('SIGKILL'), 3_000);
      await gone;
      clearTimeout(force);
    }
    for (const ns of this.namespaces) {
      await sh('ip', ['netns', 'delete', ns]).catch(() => undefined);
      fs.rmSync(path.join('/etc/netns', ns), { recursive: true, force: true });
    }
  }
}

/** The pids of running processes whose command line contains `text`. */
export function processesWith(text: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/cmdline`, 'latin1').replace(/\0/g, ' ').includes(text)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

export async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
