// Dialling upstream servers, in one place: the trust leakscope gives upstream certificates (Node's roots plus
// `--upstream-ca`), HTTPS with ALPN (`h2` and `http/1.1` offered, the server's pick spoken, one HTTP/2 session
// per origin shared by every request to it), and raw connections for tunnels that are not HTTP.
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { LruMap } from '../util/lru-map';
import { H2UpstreamRequest } from './upstream-h2';

/**
 * Node's roots plus the tester's extra CAs as one prebuilt context, or undefined for Node's defaults. Built once:
 * a `ca` list would be concatenated into every pool key and parsed again for each new connection.
 */
export function upstreamTrust(extraCa: string[] | undefined): tls.SecureContext | undefined {
  return extraCa?.length ? tls.createSecureContext({ ca: [...tls.rootCertificates, ...extraCa] }) : undefined;
}

/** The name to send as SNI and check the certificate against: never an IP literal (RFC 6066). */
export function serverName(host: string): string | undefined {
  return net.isIP(host) ? undefined : host;
}

export interface RawDial {
  host: string;
  port: number;
  /** wrap in TLS (the phone's TLS was ended here), with this SNI and ALPN */
  tls?: { servername?: string; alpn?: string[] };
}

/**
 * A connection to the target for a raw relay. Resolves once it is up (for TLS: the handshake done and the
 * certificate checked), so a failure is known before any of the phone's bytes are sent. `lookup` is the guard's
 * (target-guard.ts), judging the address a name resolves to.
 */
export function dialRaw(dial: RawDial, trust: tls.SecureContext | undefined, lookup: net.LookupFunction): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = dial.tls
      ? tls.connect({
          host: dial.host,
          port: dial.port,
          servername: dial.tls.servername ?? serverName(dial.host),
          ALPNProtocols: dial.tls.alpn,
          secureContext: trust,
          lookup,
        })
      : net.connect({ host: dial.host, port: dial.port, lookup });
    const fail = (err: Error) => {
      socket.destroy();
      reject(err);
    };
    socket.once('error', fail);
    socket.once(dial.tls ? 'secureConnect' : 'connect', () => {
      socket.off('error', fail);
      resolve(socket);
    });
  });
}

/** Origins whose protocol (and HTTP/2 session) is remembered: bounded, as host names come from clients. */
const ORIGINS_KEPT = 10_000;

const originKey = (o: { host?: string | null; port?: number | string | null; servername?: string }) => `${o.host}:${o.port}:${o.servername ?? ''}`;

/**
 * The HTTPS agent of HTTP/1.1 origins. The first connection to an origin is made with ALPN to learn what it
 * speaks; when that is HTTP/1.1 the connection is parked here and becomes the agent's first pooled socket, so
 * learning costs no extra handshake.
 */
class OriginAgent extends https.Agent {
  private readonly parked = new Map<string, tls.TLSSocket>();

  park(key: string, socket: tls.TLSSocket): void {
    this.parked.get(key)?.destroy();
    this.parked.set(key, socket);
  }

  override createConnection(options: https.RequestOptions, callback?: (err: Error | null, socket: Duplex) => void): Duplex {
    const key = originKey(options);
    const parked = this.parked.get(key);
    if (parked) {
      this.parked.delete(key);
      if (!parked.destroyed) return parked;
    }
    return (https.Agent.prototype as unknown as { createConnection: OriginAgent['createConnection'] }).createConnection.call(this, options, callback);
  }
}

type Learned = { protocol: 'h1' } | { protocol: 'h2'; session: http2.ClientHttp2Session };

export class Upstream {
  readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  readonly httpsAgent: OriginAgent;
  private readonly learned = new LruMap<string, Learned>(ORIGINS_KEPT);
  /** first connections under way, shared by the requests that arrive meanwhile */
  private readonly probes = new Map<string, Promise<Learned>>();
  private readonly sessions = new Set<http2.ClientHttp2Session>();

  constructor(private readonly trust: tls.SecureContext | undefined) {
    this.httpsAgent = new OriginAgent({ keepAlive: true, maxSockets: 256, secureContext: trust });
  }

  /**
   * A request to an upstream, as `http.request` would make it. HTTPS origins known to speak HTTP/1.1 take the
   * pooled path unchanged; the others get a stand-in that speaks HTTP/2 or, once the origin is learned,
   * HTTP/1.1, with the same events and methods `forward` uses.
   */
  request(isSSL: boolean, options: https.RequestOptions): http.ClientRequest {
    if (!isSSL) return http.request(options);
    const key = originKey(options);
    const known = this.learned.get(key);
    if (known?.protocol === 'h1') return https.request(options);
    const live = known?.protocol === 'h2' && !known.session.closed && !known.session.destroyed ? known : undefined;
    const ready = live ? Promise.resolve(live) : this.learn(key, options);
    return new H2UpstreamRequest(options, ready, () => https.request(options)) as unknown as http.ClientRequest;
  }

  private learn(key: string, options: https.RequestOptions): Promise<Learned> {
    let probe = this.probes.get(key);
    if (probe) return probe;
    probe = this.probe(key, options).finally(() => this.probes.delete(key));
    this.probes.set(key, probe);
    return probe;
  }

  private async probe(key: string, options: https.RequestOptions): Promise<Learned> {
    const socket = (await dialRaw(
      { host: String(options.host), port: Number(options.port), tls: { servername: options.servername, alpn: ['h2', 'http/1.1'] } },
      this.trust,
      // forward's options carry the target guard's lookup: the first connection is judged like any other
      options.lookup as net.LookupFunction,
    )) as tls.TLSSocket;
    if (socket.alpnProtocol !== 'h2') {
      this.httpsAgent.park(key, socket);
      const h1: Learned = { protocol: 'h1' };
      this.learned.set(key, h1);
      return h1;
    }
    const session = http2.connect(`https://${options.host}:${options.port}`, { createConnection: () => socket });
    this.sessions.add(session);
    const learned: Learned = { protocol: 'h2', session };
    // Errors reach the streams; a closed session is dialled anew by the next request (`request` checks).
    session.on('error', () => {});
    session.once('close', () => this.sessions.delete(session));
    session.once('goaway', () => session.close());
    // Idle sessions do not keep leakscope (or its tests) running.
    session.unref();
    this.learned.set(key, learned);
    return learned;
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
    for (const session of this.sessions) session.destroy();
  }
}
