// What a connection carries, decided from its first bytes, for every entrance alike (a CONNECT tunnel, a
// transparently redirected socket, one from the WireGuard tunnel). mitmproxy's `next_layer` does the same job:
//
//   first bytes                          → what happens
//   TLS ClientHello (0x16 0x03)          → TLS ended here (leaf by SNI, else the target), then the plain side
//                                          is classified again
//   HTTP/1.x request line                → the HTTP/1 server (each request a flow through `forward`)
//   HTTP/2 preface "PRI * HTTP/2.0"      → the HTTP/2 server
//   anything else                        → relayed raw to the target (over TLS if the phone's TLS was ended)
//   nothing within SERVER_FIRST_WAIT_MS  → the target is dialled: what it says first (a banner) goes to the
//                                          phone; if the phone speaks before the server does, it is classified
//
// An ALPN of `http/1.1` or `h2` settles the plain side without looking at it: a browser may open a connection
// and send its request only when it needs one.
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import type { CaptureMode } from '../../shared/types';
import { log } from '../log';
import type { RawDial } from './upstream';

/** What an entrance knows of a connection it hands over. */
export interface Interception {
  /** the phone's address */
  client: string;
  /** where the phone meant to connect: the CONNECT target, or the original destination */
  target: { host: string; port: number };
  /** how the connection came in */
  mode: CaptureMode;
  /**
   * the host name the entrance knows when the target is an address (the name the phone resolved through the
   * tunnel's DNS): recorded for a connection that names no host itself (no SNI, no Host header)
   */
  name?: string;
  /** bytes the entrance already read from the socket, handed back before anything else */
  head?: Buffer;
}

/** The plain side of a connection: the socket as it is, or the secure socket once leakscope ended TLS on it. */
export interface PlainSide {
  socket: Duplex;
  interception: Interception;
  /** set when leakscope ended the phone's TLS: what to repeat towards the target */
  tls?: { servername?: string; alpn?: string; offered: string[] };
}

/** The paths a connection can take; each is one module's entry. */
export interface Paths {
  /** ends TLS; resolves with the plain side, or undefined when the handshake failed (already reported) */
  tls(socket: Duplex, interception: Interception): Promise<PlainSide | undefined>;
  http1(side: PlainSide): void;
  http2(side: PlainSide): void;
  /** relays to the target; `dialled`: a connection to it already made (a server that speaks first) */
  raw(side: PlainSide, dialled?: net.Socket): void;
  /** dials the target for a raw relay (with the upstream trust, and the guards on where `client` may go) */
  dial(target: RawDial, client: string): Promise<net.Socket>;
}

/** The target as a raw relay dials it: in TLS again, with the phone's SNI and the protocol agreed with it, if its TLS was ended. */
export function rawDial(side: PlainSide): RawDial {
  const { host, port } = side.interception.target;
  const tls = side.tls && { servername: side.tls.servername, alpn: side.tls.alpn ? [side.tls.alpn] : undefined };
  return { host, port, tls };
}

/** How long a connection may stay silent before leakscope decides its server speaks first. */
export const SERVER_FIRST_WAIT_MS = 400;

export type Sniffed = 'tls' | 'http1' | 'h2' | 'other';

const H2_PREFACE = 'PRI * HTTP/2.0\r\n';
// A method token, a space, and a request target as proxies and origins see them (origin, absolute or `*` form).
const HTTP1_REQUEST = /^[A-Z][A-Z-]{1,19} (?:\/|\*|[a-z][a-z0-9+.-]*:\/\/)/i;

/** Names the protocol a connection's first bytes belong to. */
export function sniff(head: Buffer): Sniffed {
  if (head[0] === 0x16 && (head.length === 1 || head[1] === 0x03)) return 'tls';
  const start = head.toString('latin1', 0, 32);
  if (start.startsWith(H2_PREFACE)) return 'h2';
  if (HTTP1_REQUEST.test(start)) return 'http1';
  return 'other';
}

/**
 * The first bytes the phone sends, put back for whoever reads next; undefined if it stays silent for `ms`, or
 * hangs up (ends its side, or closes) first.
 */
function firstBytes(socket: Duplex, ms: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const done = (head: Buffer | undefined) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onGone);
      socket.off('close', onGone);
      socket.pause();
      if (head) socket.unshift(head);
      resolve(head);
    };
    const onData = (chunk: Buffer) => done(chunk);
    const onGone = () => done(undefined);
    const timer = setTimeout(() => done(undefined), ms);
    socket.on('data', onData);
    socket.once('end', onGone);
    socket.once('close', onGone);
    socket.resume();
  });
}

/**
 * The phone is silent: dial the target and let a banner through. Resolves with the connection and whether the
 * server spoke first; if the phone speaks first after all, the connection is dropped unused and the phone's
 * bytes decide (a client that waits before its ClientHello must still be decrypted, not relayed blind).
 */
async function serverFirst(side: PlainSide, paths: Paths): Promise<'phone' | net.Socket | undefined> {
  const { host, port } = side.interception.target;
  let upstream: net.Socket;
  try {
    upstream = await paths.dial(rawDial(side), side.interception.client);
  } catch (err) {
    log.debug({ err: (err as Error).message, host, port }, 'a silent tunnel: its target could not be dialled');
    // The raw path dials again and records the failure as the tunnel's flow.
    return undefined;
  }
  upstream.pause();
  return new Promise((resolve) => {
    const settle = (winner: 'phone' | 'server') => {
      side.socket.off('readable', onPhone);
      upstream.off('readable', onServer);
      side.socket.off('close', onGone);
      if (winner === 'phone') {
        upstream.destroy();
        resolve('phone');
      } else resolve(upstream);
    };
    const onPhone = () => settle('phone');
    const onServer = () => settle('server');
    const onGone = () => settle('server');
    side.socket.once('readable', onPhone);
    upstream.once('readable', onServer);
    side.socket.once('close', onGone);
  });
}

async function classifyPlain(side: PlainSide, paths: Paths): Promise<void> {
  const alpn = side.tls?.alpn;
  if (alpn === 'h2') return paths.http2(side);
  if (alpn === 'http/1.1') return paths.http1(side);
  let head = await firstBytes(side.socket, SERVER_FIRST_WAIT_MS);
  if (!head) {
    // A phone that hung up without a word (a pinning check after the handshake, say) leaves nothing to relay; a
    // server dialled for it would hold the connection open for as long as it waits for a request.
    if (side.socket.readableEnded || side.socket.destroyed) return void side.socket.destroy();
    const first = await serverFirst(side, paths);
    if (first !== 'phone') return paths.raw(side, first);
    head = (side.socket.read() as Buffer | null) ?? undefined;
    // A phone that closed without a word leaves nothing to relay or record.
    if (!head) return void side.socket.destroy();
    side.socket.unshift(head);
  }
  const kind = sniff(head);
  if (kind === 'tls' && !side.tls) {
    const plain = await paths.tls(side.socket, side.interception);
    if (plain) await classifyPlain(plain, paths);
    return;
  }
  if (kind === 'http1') return paths.http1(side);
  if (kind === 'h2') return paths.http2(side);
  paths.raw(side);
}

/**
 * Makes the one entry every entrance hands its connections to: `interceptConnection(socket, interception)`.
 * The socket is read from here on; the entrance must not read it again.
 */
export function classifier(paths: Paths): (socket: Duplex, interception: Interception) => void {
  return function interceptConnection(socket, interception) {
    socket.pause();
    if (interception.head?.length) socket.unshift(interception.head);
    classifyPlain({ socket, interception }, paths).catch((err: Error) => {
      log.error({ err: err.message, host: interception.target.host }, 'could not classify a connection');
      socket.destroy();
    });
  };
}
