// leakscope's end of the WireGuard tunnel: Debian's userspace wireguard-go makes the TUN interface, `wg` gives it
// its key and its peers, `ip` its address. wireguard-go runs under `setpriv --pdeathsig`, so it (and with it the
// interface) goes when leakscope goes, even on kill -9.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { log } from '../log';
import { run } from './run';

export interface TunnelSpec {
  iface: string;
  /** a 0700 directory for the config `wg setconf` reads (it holds the private key) */
  secretDir: string;
  listenPort: number;
  privateKey: string;
  /** leakscope's address in the tunnel, with the prefix length of the tunnel's range */
  address: string;
  prefixLength: number;
  peers: { publicKey: string; address: string }[];
}

export interface Tunnel {
  close(): Promise<void>;
}

/** The interface name for a UDP port: recognisable as leakscope's, and one per port (wireguard-go's control
 * socket, /var/run/wireguard/NAME.sock, is shared by every network namespace). */
export function interfaceName(port: number): string {
  return `leakscope${port}`;
}

/** The machine's interfaces that are leakscope's tunnels: not an address a phone on the LAN can use. */
export function isTunnelInterface(name: string): boolean {
  return /^leakscope\d+$/.test(name);
}

const UP_TIMEOUT_MS = 5_000;

function serverConfig(spec: TunnelSpec): string {
  const lines = ['[Interface]', `PrivateKey = ${spec.privateKey}`, `ListenPort = ${spec.listenPort}`];
  for (const peer of spec.peers) lines.push('', '[Peer]', `PublicKey = ${peer.publicKey}`, `AllowedIPs = ${peer.address}/32`);
  return lines.join('\n') + '\n';
}

async function interfaceExists(iface: string): Promise<boolean> {
  return run('ip', ['link', 'show', 'dev', iface]).then(() => true, () => false);
}

/** Starts wireguard-go and waits for its control socket, or fails with what it said. */
async function startDaemon(iface: string): Promise<ChildProcess> {
  const child = spawn('setpriv', ['--pdeathsig', 'TERM', '--', 'wireguard-go', '-f', iface], {
    env: { ...process.env, WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD: '1', LOG_LEVEL: 'error' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let said = '';
  child.stderr!.on('data', (c: Buffer) => (said = (said + c.toString()).slice(-2000)));
  const socket = `/var/run/wireguard/${iface}.sock`;
  const deadline = Date.now() + UP_TIMEOUT_MS;
  while (!(fs.existsSync(socket) && (await interfaceExists(iface)))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGTERM');
      // wireguard-go prints a banner about the kernel module first; the last line is the reason
      throw new Error(`wireguard-go ${iface} did not start: ${said.trim().split('\n').pop() ?? `exit ${child.exitCode}`}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  child.once('exit', (code, signal) => log.debug({ iface, code, signal }, 'wireguard-go exited'));
  return child;
}

function stopDaemon(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 3_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** `wg setconf` reads a file (a socket on stdin will not do): one of 0600, removed at once. */
async function setconf(spec: TunnelSpec): Promise<void> {
  const file = path.join(spec.secretDir, `${spec.iface}.conf`);
  fs.writeFileSync(file, serverConfig(spec), { mode: 0o600 });
  try {
    await run('wg', ['setconf', spec.iface, file]);
  } finally {
    fs.rmSync(file, { force: true });
  }
}

export async function startTunnel(spec: TunnelSpec): Promise<Tunnel> {
  // An interface of this name left by a leakscope that is gone (the firewall's stale check ran first)
  if (await interfaceExists(spec.iface)) await run('ip', ['link', 'delete', 'dev', spec.iface]);
  const daemon = await startDaemon(spec.iface);
  const close = async () => {
    await stopDaemon(daemon);
    if (await interfaceExists(spec.iface)) await run('ip', ['link', 'delete', 'dev', spec.iface]).catch(() => undefined);
  };
  try {
    await setconf(spec);
    await run('ip', ['address', 'add', `${spec.address}/${spec.prefixLength}`, 'dev', spec.iface]);
    await run('ip', ['link', 'set', 'dev', spec.iface, 'up']);
  } catch (err) {
    await close();
    throw err;
  }
  return { close };
}
