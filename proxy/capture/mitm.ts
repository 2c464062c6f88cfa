// The listening side: http-mitm-proxy terminates CONNECT and TLS with certificates from our CA;
// every decrypted (or plain) request is then handed to `forward`, which owns the upstream exchange.
import { setMaxListeners } from 'node:events';
import http from 'node:http';
import type http2 from 'node:http2';
import type https from 'node:https';
import type net from 'node:net';
import type stream from 'node:stream';
import type { Duplex } from 'node:stream';
import type tls from 'node:tls';
import { Proxy, type IContext } from 'http-mitm-proxy';
import type { TlsErrorEvent } from '../../shared/types';
import type { LeafMinter } from '../certs/authority';
import { log } from '../log';
import { classifier, rawDial, type Interception, type PlainSide } from './classify';
import { parseConnectTarget } from './connect-target';
import { forward, type ForwardHooks } from './forward';
import { limitHeaderTime } from './header-timeout';
import { relayRaw, type TunnelHooks } from './raw';
import { MintFailed, TlsTerminator, type Terminated } from './tls-terminate';
import { h2Front, type H2Handler } from './http2';
import { dialRaw, Upstream, upstreamTrust, type RawDial } from './upstream';

export interface MitmOptions {
  host: string;
  port: number;
  caDir: string;
  minter: LeafMinter;
  hooks: ForwardHooks & TunnelHooks;
  /** extra CA certificates (PEM) to trust for upstream servers, besides Node's bundled roots */
  upstreamCa?: string[];
  /** ms to wait for an upstream's response headers */
  upstreamTimeout: number;
  /** ms an open stream (a response under way, a WebSocket) may pass no byte before it is cut */
  idleTimeout: number;
  /** ms a client gets to send a request's headers (slowloris) */
  headersTimeout: number;
  /** ms in-flight exchanges get to finish on close before they are cut and recorded as interrupted */
  stopGrace: number;
  /** which clients may use the proxy */
  clientAllowed: (address: string) => boolean;
  /** a reason to refuse this client this destination (403), if any */
  refuseTarget: (client: string, host: string, port: number) => string | undefined;
  /** requests for these hosts are answered locally (the setup page) instead of forwarded */
  localHandler: (host: string) => http.RequestListener | undefined;
  onTlsError: (event: TlsErrorEvent) => void;
  /** a message the phone sent over a WebSocket: it goes on (in order) as the verdict says, once there is one */
  onWebSocketMessage: (message: WebSocketMessage) => Promise<WebSocketVerdict>;
}

export interface WebSocketMessage {
  client: string;
  url: string;
  data: Buffer | string;
  time: number;
}

export interface WebSocketVerdict {
  /** the message is not passed on (a block rule) */
  drop?: boolean;
  /** sent instead of the message (a redaction), in a frame of the same kind */
  data?: Buffer;
}

export function normalizeAddress(address: string | undefined): string {
  if (!address) return 'unknown';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

// http-mitm-proxy writes to the console for every new host and every reset socket; leakscope's own code
// logs through pino only, so the library's chatter goes there at debug level.
console.debug = () => {};
console.info = () => {};
console.error = (...args: unknown[]) => log.debug({ library: args.map(String).join(' ') }, 'http-mitm-proxy');

/** The connection each decrypted or tunnelled socket came in on, for the requests read from it. */
const interceptions = new WeakMap<object, Interception>();

class LeakscopeProxy extends Proxy {
  private readonly terminator: TlsTerminator;
  /** Decrypted connections: TLS is ended here and the plain bytes read by one HTTP server, in process. */
  private readonly decrypted: http.Server;
  /** Plain HTTP inside a tunnel (a CONNECT to port 80, a transparent connection without TLS). */
  private readonly plainTunnels: http.Server;
  /** Every connection handed to the classifier and still open: cut when leakscope stops. */
  private readonly tunnels = new Set<Duplex>();
  readonly interceptConnection: (socket: Duplex, interception: Interception) => void;

  constructor(
    private readonly opts: MitmOptions,
    paths: { tunnels: TunnelHooks; stopping: AbortSignal; serveH2: H2Handler; trust: tls.SecureContext | undefined },
  ) {
    super();
    const { stopping, trust } = paths;
    const hooks = paths.tunnels;
    this.terminator = new TlsTerminator(opts.minter, opts.headersTimeout);
    this.decrypted = this.tunnelServer(true);
    this.plainTunnels = this.tunnelServer(false);
    const h2 = h2Front(paths.serveH2);
    // The guards apply to the address really dialled, whatever the phone said inside the tunnel.
    const dial = (target: RawDial, client: string) => {
      const refusal = opts.refuseTarget(client, target.host, target.port);
      return refusal ? Promise.reject(new Error(refusal)) : dialRaw(target, trust);
    };
    const raw = (side: PlainSide, dialled?: net.Socket) =>
      relayRaw(side.socket, side.interception.client, rawDial(side), { hooks, stopping, dial: (t) => dial(t, side.interception.client) }, dialled);
    this.interceptConnection = classifier({
      tls: (socket, interception) => this.endTls(socket, interception),
      http1: (side) => {
        interceptions.set(side.socket, side.interception);
        (side.tls ? this.decrypted : this.plainTunnels).emit('connection', side.socket);
        side.socket.resume();
      },
      http2: (side) => h2.accept(side),
      raw: (side, dialled) => void raw(side, dialled),
      dial,
    });
  }

  /** An in-process HTTP server for the requests read from tunnels: each goes to the library's handler, then `forward`. */
  private tunnelServer(isSSL: boolean): http.Server {
    const server = http.createServer();
    server.on('request', (req, res) => this._onHttpServerRequest(isSSL, req, res));
    server.on('upgrade', (req: http.IncomingMessage, socket: stream.Duplex, head: Buffer) => {
      this.wsServer!.handleUpgrade(req, socket, head, (ws) => {
        (ws as unknown as { upgradeReq: http.IncomingMessage }).upgradeReq = req;
        this._onWebSocketServerConnect(isSSL, ws, req);
      });
    });
    server.on('clientError', (err: Error, socket: stream.Duplex) => {
      log.debug({ err: err.message }, 'bad request inside a tunnel');
      socket.destroy();
    });
    limitHeaderTime(server, this.opts.headersTimeout, 'connection');
    // An upload streams as long as the phone keeps sending (node would cut it at 5 minutes); silence is bounded
    // by the idle timeout instead.
    server.requestTimeout = 0;
    return server;
  }

  /** The regular entrance: a CONNECT is answered at once, and the tunnel handed to the classifier. */
  override _onHttpServerConnect(req: http.IncomingMessage, socket: net.Socket, head: Buffer): void {
    socket.on('error', (err) => log.debug({ err: err.message }, 'tunnel socket error'));
    const target = parseConnectTarget(req.url);
    if (!target) {
      log.debug({ target: req.url?.slice(0, 300) }, 'refused a malformed CONNECT target');
      socket.end('HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\nleakscope: bad CONNECT target\n');
      return;
    }
    const client = normalizeAddress(socket.remoteAddress);
    const refusal = this.opts.refuseTarget(client, target.host, target.port);
    if (refusal) {
      log.warn({ client, host: target.host, port: target.port }, refusal);
      socket.end(`HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\nleakscope: ${refusal}\n`);
      return;
    }
    const key = `${socket.remotePort}:${socket.localPort}`;
    this.connectRequests[key] = req;
    socket.once('close', () => delete this.connectRequests[key]);
    socket.write('HTTP/1.1 200 OK\r\n\r\n');
    this.intercept(socket, { client, target, mode: 'regular', head });
  }

  /** `interceptConnection`, keeping the socket among those to cut at stop. */
  intercept(socket: Duplex, interception: Interception): void {
    this.tunnels.add(socket);
    socket.once('close', () => this.tunnels.delete(socket));
    this.interceptConnection(socket, interception);
  }

  private async endTls(socket: Duplex, interception: Interception): Promise<PlainSide | undefined> {
    const host = interception.target.host;
    let ended: Terminated;
    try {
      ended = await this.terminator.terminate(socket, host);
    } catch (err) {
      if (err instanceof MintFailed) log.error({ err: err.message, host }, 'could not mint a certificate');
      else this.reportTlsError(err as Error, interception);
      socket.destroy();
      return undefined;
    }
    const secure = ended.socket;
    this.tunnels.add(secure);
    secure.once('close', () => this.tunnels.delete(secure));
    return { socket: secure, interception, tls: { servername: ended.servername, alpn: secure.alpnProtocol || undefined, offered: ended.offered } };
  }

  /** Cuts every decrypted connection (idle keep-alives included): part of stopping. */
  closeTunnels(): void {
    for (const socket of this.tunnels) socket.destroy();
  }

  private reportTlsError(err: Error, interception: Interception): void {
    const event: TlsErrorEvent = {
      time: Date.now(),
      client: interception.client,
      host: interception.target.host,
      // OpenSSL's `reason` ("tlsv1 alert unknown ca") says it; the full message is a stack of C file names.
      message: (err as Error & { reason?: string }).reason ?? err.message,
    };
    this.opts.onTlsError(event);
  }

  override _onError(kind: string, ctx: IContext | null, err: Error): void {
    log.debug({ kind, err: err.message }, 'proxy error');
    if (ctx?.proxyToClientResponse && !ctx.proxyToClientResponse.headersSent) {
      ctx.proxyToClientResponse.writeHead(502, { 'content-type': 'text/plain; charset=utf-8' });
      ctx.proxyToClientResponse.end(`leakscope: ${kind.toLowerCase().replace(/_/g, ' ')}\n`);
    }
  }
}

export interface MitmProxy {
  port: number;
  /**
   * The one entry for connections from every entrance (transparent, WireGuard): classifies what the socket
   * carries and intercepts it as the regular entrance does its CONNECT tunnels. Cut when leakscope stops.
   */
  interceptConnection(socket: Duplex, interception: Interception): void;
  close(): Promise<void>;
}

function refuse(res: http.ServerResponse, text: string): void {
  res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
  res.end(`leakscope: ${text}\n`);
}

/** Where a decrypted or plain request goes, as its URL names it, and who sent it. */
interface RequestTarget {
  client: string;
  host: string;
  port: number;
  isSSL: boolean;
}

/** The host and port an HTTP/2 request's `:authority` names; the connection's target when it names none. */
function authorityTarget(authority: string | undefined, fallback: Interception['target']): { host: string; port: number } {
  const m = /^(?:\[([0-9a-f:.]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/i.exec(authority ?? '');
  if (!m) return fallback;
  return { host: (m[1] ?? m[2]).toLowerCase(), port: m[3] ? Number(m[3]) : 443 };
}

export function startMitm(opts: MitmOptions): Promise<MitmProxy> {
  const stop = new AbortController();
  // One listener per in-flight exchange: the default cap of 10 would warn under ordinary load.
  setMaxListeners(0, stop.signal);
  let inFlight = 0;
  let idle: (() => void) | undefined;
  const hooks: ForwardHooks = {
    inspect: (request) => opts.hooks.inspect(request),
    judgeMessage: opts.hooks.judgeMessage && ((request, payload, frame) => opts.hooks.judgeMessage!(request, payload, frame)),
    complete: (exchange, verdict) => {
      const stored = opts.hooks.complete(exchange, verdict);
      if (--inFlight === 0) idle?.();
      return stored;
    },
  };
  const trust = upstreamTrust(opts.upstreamCa);
  const dialler = new Upstream(trust);
  const { httpAgent, httpsAgent } = dialler;
  const upstream = {
    httpAgent,
    httpsAgent,
    open: (isSSL: boolean, options: https.RequestOptions) => dialler.request(isSSL, options),
    timeout: opts.upstreamTimeout,
    idleTimeout: opts.idleTimeout,
    stopping: stop.signal,
  };

  /** Every request read from the phone, HTTP/1 or HTTP/2: the setup page, a refusal, or `forward`. */
  const serve = (req: http.IncomingMessage, res: http.ServerResponse, target: RequestTarget): void => {
    const { client, host, port } = target;
    const local = opts.localHandler(host);
    if (local) {
      req.resume();
      local(req, res);
      return;
    }
    const refusal = opts.refuseTarget(client, host, port);
    if (refusal) {
      log.warn({ client, host, port }, refusal);
      req.resume();
      refuse(res, refusal);
      return;
    }
    inFlight++;
    forward(req, res, target, hooks, upstream).catch((err: Error) => {
      log.error({ err: err.message, host }, 'forwarding failed');
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`leakscope: internal error\n`);
    });
  };
  const serveH2: H2Handler = (req, res, interception) => {
    const { host, port } = authorityTarget((req as unknown as http2.Http2ServerRequest).authority, interception.target);
    serve(req, res, { client: interception.client, host, port, isSSL: true });
  };
  const proxy = new LeakscopeProxy(opts, { tunnels: opts.hooks, stopping: stop.signal, serveH2, trust });

  proxy.onRequest((ctx, _callback) => {
    // We never call the library's callback: `forward` answers the phone itself.
    const req = ctx.clientToProxyRequest;
    const target = ctx.proxyToServerRequestOptions!;
    serve(req, ctx.proxyToClientResponse, {
      client: interceptions.get(req.socket)?.client ?? normalizeAddress(req.socket.remoteAddress),
      host: String(target.host ?? '').toLowerCase(),
      port: Number(target.port) || (ctx.isSSL ? 443 : 80),
      isSSL: ctx.isSSL,
    });
  });

  // Each connection's phone-to-server messages, chained: every one is scanned as it arrives, and leaves only
  // after the one before it, so a slow verdict (a redaction, a commit) never reorders what the server gets.
  const sent = new WeakMap<object, Promise<void>>();
  proxy.onWebSocketFrame((ctx, type, fromServer, data, flags, callback) => {
    if (type !== 'message' || fromServer) return callback(null, data, flags);
    const socket = (ctx.clientToProxyWebSocket as unknown as { _socket?: net.Socket })._socket;
    const verdict = opts.onWebSocketMessage({
      client: normalizeAddress((ctx.connectRequest?.socket ?? socket)?.remoteAddress),
      url: String(ctx.proxyToServerWebSocketOptions?.url ?? ''),
      data: data as Buffer | string,
      time: Date.now(),
    });
    const previous = sent.get(ctx) ?? Promise.resolve();
    const next = previous
      .then(() => verdict)
      .then(
        // Not calling back drops the message: the library then never sends it.
        (v) => {
          if (!v.drop) callback(null, v.data ?? data, flags);
        },
        // Fail closed, as a request that cannot be inspected gets a 502 rather than passing unseen.
        (err: Error) => log.error({ err: err.message, url: ctx.proxyToServerWebSocketOptions?.url }, 'WebSocket message not inspected: dropped'),
      );
    sent.set(ctx, next);
  });

  return new Promise((resolve, reject) => {
    // WebSocket upgrades are forwarded by the library itself: hand it our agents so it trusts what we trust.
    const listenOptions = { host: opts.host, port: opts.port, sslCaDir: opts.caDir, keepAlive: true, forceSNI: false, httpAgent, httpsAgent };
    proxy.listen(listenOptions, (err) => {
      if (err) return reject(err);
      const server = proxy.httpServer!;
      server.requestTimeout = 0;
      limitHeaderTime(server, opts.headersTimeout, 'connection');
      server.prependListener('connection', (socket: net.Socket) => {
        const address = normalizeAddress(socket.remoteAddress);
        // Internal hops (CONNECT tunnels to ourselves) arrive from loopback and are always allowed.
        if (opts.clientAllowed(address)) return;
        log.warn({ client: address }, 'refused a client outside the allowed ranges');
        socket.end('HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\nleakscope: client not allowed\n');
        socket.destroy();
      });
      server.on('error', (e) => log.error({ err: e.message }, 'proxy server error'));
      resolve({
        port: proxy.httpPort,
        interceptConnection: (socket, interception) => proxy.intercept(socket, interception),
        close: async () => {
          const srv = proxy.httpServer;
          // Stop taking connections (idle keep-alives go too), let running exchanges finish for a while,
          // then cut the rest: each still gets recorded, as interrupted.
          proxy.close();
          if (inFlight > 0) {
            await new Promise<void>((done) => {
              idle = done;
              setTimeout(done, opts.stopGrace).unref();
            });
          }
          stop.abort();
          srv?.closeAllConnections();
          proxy.closeTunnels();
          dialler.close();
        },
      });
    });
  });
}
