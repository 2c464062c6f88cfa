// The entrances besides the explicit proxy (CONTRACT.md "Capture modes"): the transparent listener and
// WireGuard mode. Each hands its connections, with their original destination and how they came in, to the
// one classifier; WireGuard's DNS log adds the name the phone resolved for the address.
import type { Duplex } from 'node:stream';
import type { CaptureMode, UdpDroppedEvent } from '../../shared/types';
import { DnsLog, startWireguard, type Wireguard } from '../wireguard';
import { checkPrerequisites } from '../wireguard/prerequisites';
import type { Interception } from './classify';
import type { OwnListener } from './target-guard';
import { startTransparent, type RedirectedConnection, type TransparentListener } from './transparent';

export interface EntrancesOptions {
  modes: CaptureMode[];
  /** the address the transparent listener binds (the proxy's) */
  host: string;
  transparentPort: number;
  wireguardPort: number;
  wireguardPeers: string[];
  endpointHost: string;
  dataDir: string;
  clientAllowed: (address: string) => boolean;
  intercept: (socket: Duplex, interception: Interception) => void;
  onUdpDropped: (event: UdpDroppedEvent) => void;
}

export interface Entrances {
  transparent?: TransparentListener;
  wireguard?: Wireguard;
  /** their TCP listeners, for the target guard: a flow to one of them would loop */
  listeners: OwnListener[];
  /** the tester's name for a WireGuard peer's tunnel address */
  peerName(client: string): string | undefined;
  close(): Promise<void>;
}

export async function startEntrances(opts: EntrancesOptions): Promise<Entrances> {
  const dnsLog = new DnsLog();
  const intercept = (socket: Duplex, c: RedirectedConnection) => {
    const name = dnsLog.nameFor(c.client, c.target.address);
    opts.intercept(socket, { client: c.client, target: { host: c.target.address, port: c.target.port }, mode: c.mode, ...(name ? { name } : {}) });
  };
  let transparent: TransparentListener | undefined;
  let wireguard: Wireguard | undefined;
  const close = async () => {
    await transparent?.close();
    await wireguard?.close();
  };
  try {
    if (opts.modes.includes('transparent')) {
      checkPrerequisites('transparent');
      transparent = await startTransparent({
        host: opts.host,
        port: opts.transparentPort,
        option: '--transparent-port',
        mode: 'transparent',
        clientAllowed: opts.clientAllowed,
        intercept,
      });
    }
    if (opts.modes.includes('wireguard')) {
      wireguard = await startWireguard({
        dataDir: opts.dataDir,
        port: opts.wireguardPort,
        peerNames: opts.wireguardPeers,
        endpointHost: opts.endpointHost,
        clientAllowed: opts.clientAllowed,
        dnsLog,
        intercept,
        onUdpDropped: opts.onUdpDropped,
      });
    }
  } catch (err) {
    await close();
    throw err;
  }
  const listeners: OwnListener[] = [];
  if (transparent) listeners.push({ role: 'transparent', host: opts.host, port: transparent.port });
  if (wireguard) listeners.push({ role: 'wireguard', host: wireguard.tcpListener.host, port: wireguard.tcpListener.port });
  return { transparent, wireguard, listeners, peerName: (client) => wireguard?.peerName(client), close };
}
