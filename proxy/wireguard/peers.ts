// The tunnel's addresses and each phone's client config. leakscope's end is 10.73.0.1 (it answers DNS there);
// the peers get 10.73.0.2, .3, … in the order they were first named, so a phone keeps its address (and the
// device name the tester gave that address) across restarts. IPv4 only: a phone with no IPv6 address in the
// tunnel sends no IPv6, and AllowedIPs ::/0 still keeps IPv6 from going around it.
import { UsageError } from '../cli/errors';
import type { WireguardKeys } from './keys';

export const TUNNEL_PREFIX = '10.73.0';
export const SERVER_ADDRESS = `${TUNNEL_PREFIX}.1`;
export const TUNNEL_CIDR = `${TUNNEL_PREFIX}.0/24`;
const MAX_PEERS = 253;

export interface Peer {
  name: string;
  /** the phone's address in the tunnel: its client address in every flow */
  address: string;
  publicKey: string;
  /** the phone's config file (what its QR code holds) */
  conf: string;
}

export interface PhoneConfigInput {
  privateKey: string;
  address: string;
  serverPublicKey: string;
  /** host:port the phone reaches leakscope's UDP port at */
  endpoint: string;
}

/** A wg-quick style config, as the WireGuard apps import it from a file or a QR code. */
export function phoneConfig(input: PhoneConfigInput): string {
  return [
    '[Interface]',
    `PrivateKey = ${input.privateKey}`,
    `Address = ${input.address}/32`,
    `DNS = ${SERVER_ADDRESS}`,
    '',
    '[Peer]',
    `PublicKey = ${input.serverPublicKey}`,
    'AllowedIPs = 0.0.0.0/0, ::/0',
    `Endpoint = ${input.endpoint}`,
    '',
  ].join('\n');
}

/** The peers named on this start (in their stored order), with their addresses and configs. */
export function peersOf(keys: WireguardKeys, names: string[], endpoint: string): Peer[] {
  const peers: Peer[] = [];
  keys.peers.forEach((stored, index) => {
    if (!names.includes(stored.name)) return;
    if (index >= MAX_PEERS) throw new UsageError(`--wireguard-peer ${stored.name}: the tunnel has room for ${MAX_PEERS} peers (DATA_DIR/wireguard/keys.json lists every peer ever named)`);
    const address = `${TUNNEL_PREFIX}.${index + 2}`;
    const conf = phoneConfig({ privateKey: stored.keys.privateKey, address, serverPublicKey: keys.server.publicKey, endpoint });
    peers.push({ name: stored.name, address, publicKey: stored.keys.publicKey, conf });
  });
  return peers;
}

/** Whether an address is inside the tunnel's range (leakscope's end included). */
export function inTunnel(address: string): boolean {
  return address.startsWith(`${TUNNEL_PREFIX}.`);
}
