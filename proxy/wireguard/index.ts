// WireGuard mode: a phone with the WireGuard app sends everything through leakscope, whatever its apps think of
// proxies. Up in this order, down in the reverse: keys, a stale table or interface removed, the tunnel, the
// listeners on the tunnel address (TCP → the transparent entrance, DNS, the UDP sink), then the rules that send
// the tunnel's traffic to them.
import dgram from 'node:dgram';
import type net from 'node:net';
import path from 'node:path';
import type { UdpDroppedEvent } from '../../shared/types';
import type { Endpoint } from '../capture/conntrack';
import { startTransparent, type RedirectedConnection } from '../capture/transparent';
import { log } from '../log';
import { bindUdp } from '../util/listen';
import { startDns } from './dns';
import { DnsLog } from './dns-log';
import { installRules, removeRules, removeStale } from './firewall';
import { loadKeys } from './keys';
import { inTunnel, peersOf, SERVER_ADDRESS, type Peer } from './peers';
import { checkPrerequisites } from './prerequisites';
import { interfaceName, startTunnel } from './tunnel';
import { startUdpSink } from './udp-sink';

export { DnsLog } from './dns-log';
export type { Peer } from './peers';

const MAX_EVENTS = 500;

export interface WireguardOptions {
  dataDir: string;
  /** UDP port of the WireGuard server */
  port: number;
  /** the peers (phones) to let in, by the names the tester gives */
  peerNames: string[];
  /** host the phones reach this machine at (the LAN address) */
  endpointHost: string;
  clientAllowed: (address: string) => boolean;
  dnsLog: DnsLog;
  intercept: (socket: net.Socket, connection: RedirectedConnection) => void;
  onUdpDropped: (event: UdpDroppedEvent) => void;
}

export interface Wireguard {
  iface: string;
  port: number;
  peers: Peer[];
  /** where the tunnel's TCP is redirected to */
  tcpListener: { host: string; port: number };
  /** the tester's name of the peer with this tunnel address */
  peerName(address: string): string | undefined;
  /** newest first */
  udpDropped(): UdpDroppedEvent[];
  close(): Promise<void>;
}

/** The UDP port must be free before anything is set up: wireguard-go would only say so in its log. */
async function checkPortFree(port: number): Promise<void> {
  const probe = dgram.createSocket('udp4');
  try {
    await bindUdp(probe, '0.0.0.0', port, '--wireguard-port');
  } finally {
    probe.close();
  }
}

/**
 * Only leakscope.setup's page is at leakscope's own tunnel address (port 80); the rest of the tunnel's range is
 * this machine, which the app under test must not reach.
 */
function refuseTunnelTarget(_client: string, target: Endpoint): string | undefined {
  if (!inTunnel(target.address)) return undefined;
  if (target.address === SERVER_ADDRESS && target.port === 80) return undefined;
  return 'a connection from the tunnel to the tunnel range (this machine): refused';
}

export async function startWireguard(opts: WireguardOptions): Promise<Wireguard> {
  checkPrerequisites('wireguard');
  const dir = path.join(opts.dataDir, 'wireguard');
  const keys = loadKeys(dir, opts.peerNames);
  const peers = peersOf(keys, opts.peerNames, `${opts.endpointHost}:${opts.port}`);
  await checkPortFree(opts.port);
  await removeStale();
  const iface = interfaceName(opts.port);
  const tunnel = await startTunnel({ iface, secretDir: dir, listenPort: opts.port, privateKey: keys.server.privateKey, address: SERVER_ADDRESS, prefixLength: 24, peers });
  const events: UdpDroppedEvent[] = [];
  const parts: { close(): Promise<void> }[] = [tunnel];
  let tcpPort = 0;
  const close = async () => {
    await removeRules();
    for (const part of parts.reverse()) await part.close().catch((err: Error) => log.error({ err: err.message }, 'stopping WireGuard mode'));
  };
  try {
    const tcp = await startTransparent({
      host: SERVER_ADDRESS,
      port: 0,
      option: 'the tunnel TCP listener',
      mode: 'wireguard',
      clientAllowed: opts.clientAllowed,
      refuseTarget: refuseTunnelTarget,
      intercept: opts.intercept,
    });
    parts.push(tcp);
    tcpPort = tcp.port;
    const dns = await startDns({ host: SERVER_ADDRESS, dnsLog: opts.dnsLog, setupAddress: SERVER_ADDRESS });
    parts.push(dns);
    const sink = await startUdpSink({
      host: SERVER_ADDRESS,
      dnsLog: opts.dnsLog,
      onDropped: (event) => {
        events.unshift(event);
        events.length = Math.min(events.length, MAX_EVENTS);
        opts.onUdpDropped(event);
      },
    });
    parts.push(sink);
    await installRules(iface, { tcp: tcp.port, dns: dns.port, udpSink: sink.port });
  } catch (err) {
    await close();
    throw err;
  }
  const names = new Map(peers.map((p) => [p.address, p.name]));
  return {
    iface,
    port: opts.port,
    peers,
    tcpListener: { host: SERVER_ADDRESS, port: tcpPort },
    peerName: (address) => names.get(address),
    udpDropped: () => events,
    close,
  };
}
