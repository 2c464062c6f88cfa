// The dashboard listens on loopback so that only the tester's machine sees captured flows. A phone could
// still reach it by asking the proxy (which runs on that machine) for 127.0.0.1:8081; this closes that door.
import os from 'node:os';
import { isLoopbackHost } from '../util/addresses';

export interface DashboardAddress {
  port: number;
  /** the address it listens on, and the machine's LAN addresses (ways a client could name this machine) */
  hosts: string[];
}

const WILDCARDS = ['0.0.0.0', '::', '[::]', '[::1]', os.hostname().toLowerCase()];

/** A reason to refuse `client` a request to `host:port`, when that is our own dashboard and the client is remote. */
export function dashboardGuard(dashboard: DashboardAddress): (client: string, host: string, port: number) => string | undefined {
  const own = new Set([...WILDCARDS, ...dashboard.hosts.map((h) => h.toLowerCase())]);
  return (client, host, port) => {
    if (port !== dashboard.port || isLoopbackHost(client)) return undefined;
    const name = host.toLowerCase().replace(/\.$/, '');
    return isLoopbackHost(name) || own.has(name) ? 'the dashboard is not reachable through the proxy' : undefined;
  };
}
