// What WireGuard and transparent mode need from the machine, checked before anything is changed: the first
// thing missing is one line naming it and how to get it (exit 2).
import fs from 'node:fs';
import path from 'node:path';
import type { CaptureMode } from '../../shared/types';
import { UsageError } from '../cli/errors';
import { CONNTRACK_FILE } from '../capture/conntrack';

/** CAP_NET_ADMIN's bit in the capability sets of /proc/PID/status */
const CAP_NET_ADMIN = 12n;

/** The programs WireGuard mode runs, and the Debian package of each. */
const PROGRAMS = [
  { program: 'wireguard-go', pkg: 'wireguard-go' },
  { program: 'wg', pkg: 'wireguard-tools' },
  { program: 'nft', pkg: 'nftables' },
  { program: 'ip', pkg: 'iproute2' },
  // setpriv ties wireguard-go's life to ours (a parent-death signal)
  { program: 'setpriv', pkg: 'util-linux' },
];

/** The directories searched for programs: PATH, and the sbin ones a non-root PATH may lack. */
function searchPath(): string[] {
  return [...(process.env.PATH ?? '').split(':').filter(Boolean), '/usr/local/sbin', '/usr/sbin', '/sbin'];
}

/** The full path of a program, if it is installed. */
export function findProgram(program: string): string | undefined {
  for (const dir of searchPath()) {
    const candidate = path.join(dir, program);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

function hasNetAdmin(): boolean {
  if (process.getuid?.() === 0) return true;
  const status = fs.readFileSync('/proc/self/status', 'utf8');
  const effective = /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
  return !!effective && ((BigInt(`0x${effective[1]}`) >> CAP_NET_ADMIN) & 1n) === 1n;
}

/**
 * The connection table is 0440 root. It appears once something loads conntrack (any NAT rule: the tester's
 * redirect, or WireGuard mode's own), so its absence at start is not yet a fault.
 */
function canReadConntrack(): boolean {
  try {
    fs.accessSync(CONNTRACK_FILE, fs.constants.R_OK);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' && process.getuid?.() === 0;
  }
}

/** Throws a UsageError naming the first prerequisite of `mode` that is missing. */
export function checkPrerequisites(mode: Exclude<CaptureMode, 'regular'>): void {
  const option = `--mode ${mode}`;
  if (process.platform !== 'linux') {
    throw new UsageError(`${option}: needs Linux (this is ${process.platform}); on macOS and Windows use --mode regular (the Wi-Fi proxy)`);
  }
  if (!canReadConntrack()) throw new UsageError(`${option}: needs root to read ${CONNTRACK_FILE} (run it with sudo)`);
  if (mode === 'transparent') return;
  if (!hasNetAdmin()) throw new UsageError(`${option}: needs root or CAP_NET_ADMIN (run it with sudo)`);
  if (!fs.existsSync('/dev/net/tun')) {
    throw new UsageError(`${option}: /dev/net/tun is missing (modprobe tun; in a container, give it --device /dev/net/tun --cap-add NET_ADMIN)`);
  }
  for (const { program, pkg } of PROGRAMS) {
    if (!findProgram(program)) throw new UsageError(`${option}: ${program} is missing; install it with: apt-get install ${pkg}`);
  }
}
