// A tunnel that is not HTTP (MQTT, XMPP, a vendor's push channel): relayed byte for byte to its target and
// recorded as one `tcp` flow. The phone's bytes are scanned before they leave, each read with the tail of the
// one before it, so an identifier split across two reads is still found and a block rule can cut the
// connection before it goes out.
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { CaptureMode, ClosedBy } from '../../shared/types';
import { log } from '../log';
import { INTERRUPTED } from './forward';
import { REQUEST_CAPTURE_BYTES, RESPONSE_CAPTURE_BYTES } from './limits';
import type { RawDial } from './upstream';

/** Bytes of the previous read scanned again with the next one: longer than any identifier in any encoding. */
export const STREAM_OVERLAP_BYTES = 1024;
/** How long the other side of a closed tunnel gets to send its last bytes before it is cut too. */
const CLOSE_GRACE_MS = 2000;

/** One raw tunnel as it stands; the pipeline reads it to store the flow while open and once closed. */
export interface Tunnel {
  client: string;
  mode: CaptureMode;
  /** the target dialled; when that is an address, the name the phone used instead (SNI, or the name it resolved
   * through the tunnel's DNS), if any */
  host: string;
  port: number;
  /** TLS was ended by leakscope: what is kept is the decrypted bytes, relayed over a new TLS connection */
  tls: boolean;
  start: number;
  remoteAddress?: string;
  /** what the phone sent, the first REQUEST_CAPTURE_BYTES of it */
  sent: Buffer[];
  sentSize: number;
  /** what the server sent, the first RESPONSE_CAPTURE_BYTES of it */
  received: Buffer[];
  receivedSize: number;
  end?: number;
  closedBy?: ClosedBy;
  error?: string;
}

export interface StreamVerdict {
  /** cut the connection: these bytes do not leave */
  close?: string;
}

export interface TunnelHooks {
  /** scans the phone's next bytes (`window` = the tail of the previous read + this read) before they are sent */
  inspectStream(tunnel: Tunnel, window: Buffer): Promise<StreamVerdict>;
  /** the tunnel has closed: store its flow, final; resolves once stored */
  closeTunnel(tunnel: Tunnel): Promise<void>;
}


function keep(list: Buffer[], size: number, cap: number, chunk: Buffer): void {
  if (size < cap) list.push(size + chunk.length > cap ? chunk.subarray(0, cap - size) : chunk);
}

export interface RelayOptions {
  hooks: TunnelHooks;
  /** makes the connection to the target (and refuses targets the phone may not reach) */
  dial: (target: RawDial) => Promise<net.Socket>;
  /** aborted when leakscope stops: the tunnel is cut and recorded as interrupted */
  stopping: AbortSignal;
}

/** Who opened a tunnel, how it came in, and the name it was for when the target is an address. */
export interface TunnelOrigin {
  client: string;
  mode: CaptureMode;
  name?: string;
}

/**
 * Relays `socket` to the target and records it. `dialled` is a connection already made (a server that speaks
 * first was dialled while the phone was silent); otherwise the target is dialled here.
 */
export async function relayRaw(socket: Duplex, from: TunnelOrigin, target: RawDial, opts: RelayOptions, dialled?: net.Socket): Promise<void> {
  const { hooks } = opts;
  const tunnel: Tunnel = {
    client: from.client,
    mode: from.mode,
    host: net.isIP(target.host) ? (target.tls?.servername ?? from.name ?? target.host) : target.host,
    port: target.port,
    tls: !!target.tls,
    start: Date.now(),
    sent: [],
    sentSize: 0,
    received: [],
    receivedSize: 0,
  };
  socket.pause();
  let upstream: net.Socket;
  try {
    upstream = dialled ?? (await opts.dial(target));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    tunnel.error = `could not connect to ${target.host}:${target.port}: ${e.code ?? e.message}`;
    tunnel.closedBy = 'leakscope';
    tunnel.end = Date.now();
    socket.destroy();
    await hooks.closeTunnel(tunnel);
    return;
  }
  tunnel.remoteAddress = upstream.remoteAddress;

  let finished = false;
  const finish = (by: ClosedBy, error?: string) => {
    if (finished) return;
    finished = true;
    tunnel.closedBy = by;
    if (error) tunnel.error = error;
    tunnel.end = Date.now();
    socket.destroy();
    upstream.destroy();
    void hooks.closeTunnel(tunnel);
  };

  upstream.on('data', (chunk: Buffer) => {
    keep(tunnel.received, tunnel.receivedSize, RESPONSE_CAPTURE_BYTES, chunk);
    tunnel.receivedSize += chunk.length;
    if (!socket.write(chunk)) {
      upstream.pause();
      socket.once('drain', () => upstream.resume());
    }
  });

  // Each read is scanned before it is written: reads queue behind the one being judged, so order is kept and a
  // phone sending faster than the scan is slowed (paused), never buffered without bound.
  let tail: Buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    socket.pause();
    keep(tunnel.sent, tunnel.sentSize, REQUEST_CAPTURE_BYTES, chunk);
    tunnel.sentSize += chunk.length;
    const window = tail.length ? Buffer.concat([tail, chunk]) : chunk;
    tail = window.subarray(Math.max(0, window.length - STREAM_OVERLAP_BYTES));
    hooks.inspectStream(tunnel, window).then(
      (verdict) => {
        if (finished) return;
        if (verdict.close) return finish('leakscope', verdict.close);
        if (upstream.write(chunk)) socket.resume();
        else upstream.once('drain', () => socket.resume());
      },
      (err: Error) => {
        // Fail closed, as a request that cannot be inspected is not sent unseen.
        log.error({ err: err.message, host: target.host }, 'raw stream not inspected: closed');
        finish('leakscope', `inspection failed: ${err.message}`);
      },
    );
  });

  // Half-closes pass on as half-closes (a protocol may send its last words after the other side's FIN); the
  // side that ends first is who closed it. Once one side is gone, the other gets a moment to flush, then goes.
  let first: ClosedBy | undefined;
  const ended = (by: ClosedBy) => (first ??= by);
  const gone = (other: Duplex) => {
    if (other.destroyed) return finish(first ?? 'client');
    other.end();
    setTimeout(() => other.destroy(), CLOSE_GRACE_MS).unref();
  };
  socket.on('end', () => {
    ended('client');
    upstream.end();
  });
  upstream.on('end', () => {
    ended('server');
    socket.end();
  });
  socket.on('close', () => {
    ended('client');
    gone(upstream);
  });
  upstream.on('close', () => {
    ended('server');
    gone(socket);
  });
  const interrupt = () => finish('leakscope', INTERRUPTED);
  if (opts.stopping.aborted) return interrupt();
  opts.stopping.addEventListener('abort', interrupt, { once: true });
  socket.once('close', () => opts.stopping.removeEventListener('abort', interrupt));
  socket.on('error', (err: NodeJS.ErrnoException) => finish('client', `phone's side failed: ${err.code ?? err.message}`));
  upstream.on('error', (err: NodeJS.ErrnoException) => finish('server', `server's side failed: ${err.code ?? err.message}`));
  socket.resume();
}
