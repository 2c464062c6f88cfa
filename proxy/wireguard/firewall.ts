// What may leave the tunnel, as nftables rules in a table of leakscope's own (`table inet leakscope`):
//   TCP           → redirected to leakscope's transparent listener on the tunnel address
//   UDP 53        → redirected to leakscope's DNS responder
//   UDP 443       → rejected (ICMP port unreachable): QUIC fails at once and apps fall back to TCP
//   other UDP     → redirected to leakscope's sink, which records it as `udp-dropped` and passes nothing on
//   anything else → never forwarded
// Forwarding other UDP with masquerade would let an app reach the Internet and the tester's LAN past leakscope,
// with nothing seen or recorded; dropping it, each destination shown as an event, keeps "nothing leaves unseen"
// and needs no IP forwarding on the tester's machine.
//
// The table's comment names the process and the interface that own it, so a table left by a crash is told
// apart from a running leakscope's, and removed with its interface at the next start.
import fs from 'node:fs';
import { UsageError } from '../cli/errors';
import { run } from './run';

export const TABLE = 'leakscope';
const OWNER = /comment "leakscope pid (\d+) interface ([A-Za-z0-9_.-]+)"/;

export interface FirewallPorts {
  /** the transparent listener TCP goes to */
  tcp: number;
  dns: number;
  /** the sink other UDP goes to */
  udpSink: number;
}

function owner(pid: number, iface: string): string {
  return `leakscope pid ${pid} interface ${iface}`;
}

/** The whole table: nft loads a file atomically, so it is there with every rule or not at all. */
export function ruleset(iface: string, ports: FirewallPorts): string {
  const from = `iifname "${iface}"`;
  return `table inet ${TABLE} {
  comment "${owner(process.pid, iface)}"
  chain refuse_quic {
    type filter hook prerouting priority raw; policy accept;
    ${from} udp dport 443 reject
  }
  chain to_leakscope {
    type nat hook prerouting priority dstnat; policy accept;
    ${from} meta l4proto tcp redirect to :${ports.tcp}
    ${from} udp dport 53 redirect to :${ports.dns}
    ${from} meta l4proto udp redirect to :${ports.udpSink}
  }
  chain no_forwarding {
    type filter hook forward priority filter; policy accept;
    ${from} drop
    oifname "${iface}" drop
  }
}
`;
}

function alive(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes('leakscope');
  } catch {
    return false;
  }
}

/**
 * Removes a table and interface that a leakscope which is gone left behind; throws if the table belongs to one
 * still running in this network namespace (two cannot share the table).
 */
export async function removeStale(): Promise<void> {
  let listing: string;
  try {
    listing = await run('nft', ['list', 'table', 'inet', TABLE]);
  } catch {
    return; // no such table
  }
  const found = OWNER.exec(listing);
  const pid = found ? Number(found[1]) : 0;
  if (pid && pid !== process.pid && alive(pid)) {
    throw new UsageError(`--mode wireguard: another leakscope (pid ${pid}) is running WireGuard mode here (nft table inet ${TABLE})`);
  }
  await run('nft', ['delete', 'table', 'inet', TABLE]);
  if (found) await run('ip', ['link', 'delete', found[2]]).catch(() => undefined);
}

export async function installRules(iface: string, ports: FirewallPorts): Promise<void> {
  await run('nft', ['-f', '-'], ruleset(iface, ports));
}

export async function removeRules(): Promise<void> {
  await run('nft', ['delete', 'table', 'inet', TABLE]).catch(() => undefined);
}
