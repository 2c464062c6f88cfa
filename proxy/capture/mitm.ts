// The listening side: http-mitm-proxy terminates CONNECT and TLS with certificates from our CA;
// every decrypted (or plain) request is then handed to `forward`, which owns the upstream exchange.
import { setMaxListeners } from 'node:events';
import http from 'node:http';
import type net from 'node:net';
import type stream from 'node:stream';
import type { Duplex } from 'node:stream';
import type tls from 'node:tls';
import { Proxy, type IContext } from 'http-mitm-proxy';
import type { LeafMinter } from '../certs/authority';
import { log } from '../log';
import { classifier, rawDial, type Interception, type PlainSide } from './classify';
import { parseConnectTarget, requestDestination } from './connect-target';
import { agentPool } from './agents';
import { forward, type ForwardHooks, type ForwardTarget, type UpstreamOptions } from './forward';
import { limitHeaderTime } from './header-timeout';
import { PARSER_HEAD_BYTES } from './limits';
import { relayRaw, type TunnelHooks } from './raw';
import { answerUnreadable, oversizedHead, textAnswer } from './request-head';
import { isThisMachine, RefusedTarget, viaLoop, type Refusal, type TargetGuard } from './target-guard';
import { PINNING_WINDOW_MS, tlsFailureKind, type TlsFailure } from './tls-failures';
import { MintFailed, TlsTerminator, type Terminated } from './tls-terminate';
import { h2Front, type H2Handler } from './http2';
import { dialRaw, type RawDial } from './upstream';
import { relayWebSocket, type WebSocketHooks } from './websocket';

export interface MitmOptions {
  host: string;
  port: number;
  caDir: string;
  minter: LeafMinter;
  hooks: ForwardHooks & TunnelHooks & WebSocketHooks;
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
  /** where clients may not go (loopback services, the dashboard, leakscope itself) */
  guard: TargetGuard;
  /** leakscope's own `Via` entry: added to what it forwards, and a loop when a request arrives carrying it */
  viaToken: string;
  /** requests for these hosts are answered locally (the setup page) instead of forwarded */
  localHandler: (host: string) => http.RequestListener | undefined;
  onTlsError: (failure: TlsFailure) => void;
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
  private readonly stopping: AbortSignal;
  /** Decrypted connections: TLS is ended here and the plain bytes read by one HTTP server, in process. */
  private readonly decrypted: http.Server;
  /** Plain HTTP inside a tunnel (a CONNECT to port 80, a transparent connection without TLS). */
  private readonly plainTunnels: http.Server;
  /** Every connection handed to the classifier and still open: cut when leakscope stops. */
  private readonly tunnels = new Set<Duplex>();
  readonly interceptConnection: (socket: Duplex, interception: Interception) => void;
  /** an upgrade request read by the proxy or in a tunnel (set by startMitm) */
  onUpgrade: (isSSL: boolean, req: http.IncomingMessage, socket: Duplex, head: Buffer) => void = (_isSSL, _req, socket) => socket.destroy();
  /** each request's target as its request line had it: the library cuts an absolute URI down to its path */
  readonly requestLines = new WeakMap<http.IncomingMessage, string>();

  constructor(
    private readonly opts: MitmOptions,
    paths: { tunnels: TunnelHooks; stopping: AbortSignal; serveH2: H2Handler; trust: tls.SecureContext | undefined },
  ) {
    super();
    const { stopping, trust } = paths;
    this.stopping = stopping;
    const hooks = paths.tunnels;
    this.terminator = new TlsTerminator(opts.minter, opts.headersTimeout);
    this.decrypted = this.tunnelServer(true);
    this.plainTunnels = this.tunnelServer(false);
    const h2 = h2Front(paths.serveH2);
    // The guards apply to the address really dialled, whatever the phone said inside the tunnel.
    const dial = (target: RawDial, client: string) => {
      const refusal = opts.guard.check(client, target.host, target.port);
      if (refusal) return Promise.reject(new RefusedTarget(refusal));
      return dialRaw(target, trust, opts.guard.lookup(isThisMachine(client), target.port));
    };
    const raw = (side: PlainSide, dialled?: net.Socket) =>
      relayRaw(side.socket, side.interception, rawDial(side), { hooks, stopping, dial: (t) => dial(t, side.interception.client) }, dialled);
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
    const server = http.createServer({ maxHeaderSize: PARSER_HEAD_BYTES });
    server.on('request', (req, res) => this._onHttpServerRequest(isSSL, req, res));
    server.on('upgrade', (req: http.IncomingMessage, socket: stream.Duplex, head: Buffer) => this.onUpgrade(isSSL, req, socket, head));
    server.on('clientError', (err: NodeJS.ErrnoException, socket: stream.Duplex) => answerUnreadable(err, socket, 'inside a tunnel'));
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
    // A target the guard refuses is refused inside the tunnel, by the request or the dial it carries: that
    // refusal is then recorded as a flow, as every other answer is.
    const key = `${socket.remotePort}:${socket.localPort}`;
    this.connectRequests[key] = req;
    socket.once('close', () => delete this.connectRequests[key]);
    socket.write('HTTP/1.1 200 OK\r\n\r\n');
    this.intercept(socket, { client, target, mode: 'regular', head });
  }

  override _onHttpServerRequest(isSSL: boolean, req: http.IncomingMessage, res: http.ServerResponse): void {
    this.requestLines.set(req, req.url ?? '');
    super._onHttpServerRequest(isSSL, req, res);
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
    this.watchForPinning(secure, interception);
    this.tunnels.add(secure);
    secure.once('close', () => this.tunnels.delete(secure));
    return { socket: secure, interception, tls: { servername: ended.servername, alpn: secure.alpnProtocol || undefined, offered: ended.offered } };
  }

  /** Cuts every decrypted connection (idle keep-alives included): part of stopping. */
  closeTunnels(): void {
    for (const socket of this.tunnels) socket.destroy();
  }

  private reportTlsError(err: Error, interception: Interception): void {
    this.opts.onTlsError({
      time: Date.now(),
      client: interception.client,
      host: interception.target.host,
      kind: tlsFailureKind(err),
      // OpenSSL's `reason` ("tlsv1 alert unknown ca") says it; the full message is a stack of C file names.
      message: (err as Error & { reason?: string }).reason ?? err.message,
    });
  }

  /**
   * A client that completes the handshake and closes within seconds without a byte of request is what an app's
   * own pinning check looks like; a preconnected socket left idle lives longer, and leakscope's own stop is not one.
   */
  private watchForPinning(secure: tls.TLSSocket, interception: Interception): void {
    const since = Date.now();
    secure.once('close', () => {
      if (secure.bytesRead > 0 || this.stopping.aborted || Date.now() - since > PINNING_WINDOW_MS) return;
      this.opts.onTlsError({
        time: Date.now(),
        client: interception.client,
        host: interception.target.host,
        kind: 'closed-after-handshake',
        message: 'the handshake completed, then the client closed without sending a request: likely certificate pinning',
      });
    });
  }

  /** Set while the listener is starting: the library reports a failed listen() here, not to listen's callback. */
  listenFailed?: (err: Error) => void;

  override _onError(kind: string, ctx: IContext | null, err: Error): void {
    if (kind === 'HTTP_SERVER_ERROR' && this.listenFailed) return this.listenFailed(err);
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

/** After the stop's grace, how long more an answer may wait for its flow to be stored before its connection goes. */
const STORING_GRACE_MS = 5_000;

/** The proxy's answers to phones under way, each from its request to its response's close. */
class OpenAnswers {
  private open = 0;
  private waiters: (() => void)[] = [];

  add(res: { once(event: 'close', listener: () => void): unknown }): void {
    this.open++;
    res.once('close', () => {
      if (--this.open === 0) this.waiters.splice(0).forEach((w) => w());
    });
  }

  /** Resolves once no answer is under way, or after `ms`. */
  ended(ms: number): Promise<void> {
    if (this.open === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      timer.unref();
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

export function startMitm(opts: MitmOptions): Promise<MitmProxy> {
  const stop = new AbortController();
  // One listener per in-flight exchange: the default cap of 10 would warn under ordinary load.
  setMaxListeners(0, stop.signal);
  const answering = new OpenAnswers();
  const pool = agentPool(opts.upstreamCa);
  const upstream: UpstreamOptions = {
    agents: pool.agents,
    open: pool.open,
    lookup: opts.guard.lookup,
    via: opts.viaToken,
    timeout: opts.upstreamTimeout,
    idleTimeout: opts.idleTimeout,
    stopping: stop.signal,
  };

  /** Why a request (or an upgrade) is answered by leakscope instead of forwarded, if it is; each is still a flow. */
  const refusalOf = (req: http.IncomingMessage, target: ForwardTarget): Refusal | undefined => {
    const { client, host, port } = target;
    const refused = opts.guard.check(client, host, port) ?? viaLoop(req.headers.via, opts.viaToken) ?? oversizedHead(req);
    if (refused) log.warn({ client, host, port }, refused.text.replace(/^leakscope: /, ''));
    return refused;
  };

  /** Every request read from the phone, HTTP/1 or HTTP/2: the setup page, or `forward` (a refusal is a flow too). */
  const serve = (req: http.IncomingMessage, res: http.ServerResponse, target: ForwardTarget): void => {
    const { host } = target;
    // A redirected connection's target is an address: the setup page is known by the name the phone asked for.
    const local = opts.localHandler(host) ?? (target.mode !== 'regular' ? opts.localHandler(String(req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase()) : undefined);
    if (local) {
      req.resume();
      local(req, res);
      return;
    }
    answering.add(res);
    forward(req, res, { ...target, refused: refusalOf(req, target) }, opts.hooks, upstream).catch((err: Error) => {
      log.error({ err: err.message, host }, 'forwarding failed');
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`leakscope: internal error\n`);
    });
  };
  const serveH2: H2Handler = (req, res, interception) => {
    // As over HTTP/1.1 in a tunnel: the CONNECT target is dialled, `:authority` (the Host) recorded, not obeyed.
    const { host, port } = interception.target;
    const servername = (req.socket as tls.TLSSocket).servername || undefined;
    serve(req, res, { client: interception.client, mode: interception.mode, ...(interception.name ? { name: interception.name } : {}), host, port, isSSL: true, servername });
  };
  const proxy = new LeakscopeProxy(opts, { tunnels: opts.hooks, stopping: stop.signal, serveH2, trust: pool.trust });

  /** Where a request read by the proxy goes, and who sent it; undefined when it names no valid host. */
  const targetOf = (req: http.IncomingMessage, isSSL: boolean): ForwardTarget | undefined => {
    const interception = interceptions.get(req.socket);
    const client = interception?.client ?? normalizeAddress(req.socket.remoteAddress);
    // Inside a tunnel, the target the app chose (the CONNECT target); the Host header is recorded, not obeyed.
    const destination = interception?.target ?? requestDestination(proxy.requestLines.get(req) ?? '', req.headers.host, isSSL ? 443 : 80);
    // The name the phone checked our certificate against is the one the server's must carry.
    const servername = (req.socket as tls.TLSSocket).servername || undefined;
    const mode = interception?.mode ?? 'regular';
    return destination && { client, mode, ...(interception?.name ? { name: interception.name } : {}), host: destination.host, port: destination.port, isSSL, servername };
  };
  const NO_HOST = 'the request names no valid host';

  proxy.onUpgrade = (isSSL, req, socket, head) => {
    proxy.requestLines.set(req, req.url ?? '');
    const target = targetOf(req, isSSL);
    // An absolute URI (`GET http://host/chat`) names the server; the server itself is asked for the path.
    const absolute = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(req.url ?? '');
    if (absolute) req.url = req.url!.slice(absolute[0].length) || '/';
    if (!target) {
      socket.end(textAnswer(400, `leakscope: ${NO_HOST}`));
      return;
    }
    relayWebSocket(req, socket, head, { ...target, refused: refusalOf(req, target) }, opts.hooks, upstream);
  };

  proxy.onRequest((ctx, _callback) => {
    // We never call the library's callback: `forward` answers the phone itself.
    const req = ctx.clientToProxyRequest;
    const res = ctx.proxyToClientResponse;
    const target = targetOf(req, ctx.isSSL);
    if (!target) {
      req.resume();
      res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
      res.end(`leakscope: ${NO_HOST}\n`);
      return;
    }
    serve(req, res, target);
  });

  return new Promise((resolve, reject) => {
    const listenOptions = { host: opts.host, port: opts.port, sslCaDir: opts.caDir, keepAlive: true, forceSNI: false };
    proxy.listenFailed = (err) => {
      proxy.listenFailed = undefined;
      pool.destroy();
      reject(err);
    };
    proxy.listen(listenOptions, (err) => {
      proxy.listenFailed = undefined;
      if (err) return reject(err);
      const server = proxy.httpServer!;
      // WebSocket upgrades are relayed by leakscope (websocket.ts), not by the library's own WebSocket server.
      server.removeAllListeners('upgrade');
      server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => proxy.onUpgrade(false, req, socket, head));
      server.requestTimeout = 0;
      // The library made the server without options; node's parser reads this per connection.
      (server as http.Server & { maxHeaderSize: number }).maxHeaderSize = PARSER_HEAD_BYTES;
      server.on('clientError', (e: NodeJS.ErrnoException, socket: Duplex) => answerUnreadable(e, socket, 'at the proxy port'));
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
          // then cut the rest: each still gets recorded, as interrupted. The connections go once every answer
          // has ended, its flow's included: a response whose last byte waits for its store is not cut short.
          proxy.close();
          await answering.ended(opts.stopGrace);
          stop.abort();
          await answering.ended(STORING_GRACE_MS);
          srv?.closeAllConnections();
          proxy.closeTunnels();
          pool.destroy();
        },
      });
    });
  });
}
