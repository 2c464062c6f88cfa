// The transparent entrance: a plain TCP listener that the OS (nftables/iptables REDIRECT), a router or the
// WireGuard tunnel's rules send connections to. Each connection's original destination comes from conntrack;
// the classifier then decides what it carries and where its name comes from (SNI, Host, the DNS log).
import net from 'node:net';
import os from 'node:os';
import type { CaptureMode } from '../../shared/types';
import { log } from '../log';
import { listenTcp } from '../util/listen';
import { canonicalIp, originalDestination, type Endpoint } from './conntrack';
import { normalizeAddress } from './mitm';

export interface RedirectedConnection {
  client: string;
  /** where the phone sent it */
  target: Endpoint;
  mode: CaptureMode;
}

export interface TransparentOptions {
  host: string;
  port: number;
  /** the option that names the port, for start-up errors */
  option: string;
  mode: Exclude<CaptureMode, 'regular'>;
  clientAllowed: (address: string) => boolean;
  /** a reason to refuse this destination, if any (the connection is then closed) */
  refuseTarget?: (client: string, target: Endpoint) => string | undefined;
  /** takes over the socket: reads it, classifies it and relays it */
  intercept: (socket: net.Socket, connection: RedirectedConnection) => void;
}

export interface TransparentListener {
  port: number;
  /** stops taking connections; those already taken are the classifier's to finish or cut */
  close(): Promise<void>;
}

/** Every address this machine answers on (in this network namespace), in conntrack's spelling. */
function ownAddresses(): Set<string> {
  const addresses = Object.values(os.networkInterfaces())
    .flat()
    .filter((i): i is os.NetworkInterfaceInfo => !!i)
    .map((i) => canonicalIp(i.address));
  return new Set([...addresses, canonicalIp('0.0.0.0'), canonicalIp('::')]);
}

/**
 * A connection whose original destination is this listener was not redirected (someone dialled the port
 * directly) or was redirected back to itself: relaying it would dial the listener again, forever.
 */
export function isLoop(target: Endpoint, listenerPort: number): boolean {
  return target.port === listenerPort && ownAddresses().has(canonicalIp(target.address));
}

async function accept(socket: net.Socket, port: number, opts: TransparentOptions): Promise<void> {
  const client = normalizeAddress(socket.remoteAddress);
  if (!opts.clientAllowed(client)) {
    log.warn({ client, mode: opts.mode }, 'refused a client outside the allowed ranges');
    return void socket.destroy();
  }
  const target = await originalDestination({
    protocol: 'tcp',
    remote: { address: socket.remoteAddress!, port: socket.remotePort! },
    local: { address: socket.localAddress!, port: socket.localPort! },
  });
  if (!target) {
    log.warn({ client, mode: opts.mode }, 'a redirected connection with no conntrack entry: closed');
    return void socket.destroy();
  }
  if (isLoop(target, port)) {
    log.warn({ client, target: `${target.address}:${target.port}`, mode: opts.mode }, 'a connection to the transparent listener itself (not redirected, or a loop): closed');
    return void socket.destroy();
  }
  const refusal = opts.refuseTarget?.(client, target);
  if (refusal) {
    log.warn({ client, target: `${target.address}:${target.port}`, mode: opts.mode }, refusal);
    return void socket.destroy();
  }
  opts.intercept(socket, { client, target, mode: opts.mode });
}

export async function startTransparent(opts: TransparentOptions): Promise<TransparentListener> {
  /** accepted, not yet handed over: once handed over, a socket is the classifier's (cut when leakscope stops) */
  const pending = new Set<net.Socket>();
  let port = opts.port;
  const server = net.createServer({ pauseOnConnect: true }, (socket) => {
    pending.add(socket);
    socket.on('error', (err) => log.debug({ err: err.message, mode: opts.mode }, 'transparent connection error'));
    accept(socket, port, opts)
      .catch((err: Error) => {
        log.error({ err: err.message, mode: opts.mode }, 'could not take a redirected connection');
        socket.destroy();
      })
      .finally(() => pending.delete(socket));
  });
  server.on('error', (err) => log.error({ err: err.message, mode: opts.mode }, 'transparent listener error'));
  port = await listenTcp(server, opts.host, opts.port, opts.option);
  return {
    port,
    close: async () => {
      server.close();
      for (const socket of pending) socket.destroy();
    },
  };
}
