// The listening side: http-mitm-proxy terminates CONNECT and TLS with certificates from our CA;
// every decrypted (or plain) request is then handed to `forward`, which owns the upstream exchange.
import { setMaxListeners } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import type stream from 'node:stream';
import tls from 'node:tls';
import { Proxy, type IContext } from 'http-mitm-proxy';
import type { TlsErrorEvent } from '../../shared/types';
import type { LeafMinter } from '../certs/authority';
import { log } from '../log';
import { LruMap } from '../util/lru-map';
import { parseConnectTarget } from './connect-target';
import { agentPool } from './agents';
import { forward, type ForwardHooks, type UpstreamOptions } from './forward';
import { limitHeaderTime } from './header-timeout';
import { isThisMachine, viaLoop, type TargetGuard } from './target-guard';

export interface MitmOptions {
  host: string;
  port: number;
  caDir: string;
  minter: LeafMinter;
  hooks: ForwardHooks;
  /** extra CA certificates (PEM) to trust for upstream servers, besides Node's bundled roots */
  upstreamCa?: string[];
  /** ms to wait for an upstream's response headers */
  upstreamTimeout: number;
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

/** A DNS name as SNI carries it (RFC 6066: ASCII, no trailing dot); anything else gets the CONNECT host's certificate. */
const SNI_NAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/**
 * Hosts whose TLS context is kept. Host names come from clients (CONNECT target, SNI), so the cache is bounded: a
 * client sending millions of names must not grow memory without limit. A context is far heavier than its leaf
 * certificate: OpenSSL's SSL_CTX is ~33 KiB of native memory (measured: +320 MB RSS for 10,000 contexts, against
 * +14 MB of heap for 10,000 leaves), so this cap is lower than the leaf cache's (LEAF_CACHE_HOSTS): at most
 * ~33 MB. A phone talks to a few hundred hosts over hours, so a tester never reaches it, and rebuilding an
 * evicted host's context from its still cached leaf takes about a millisecond.
 */
const TLS_CONTEXT_CACHE_HOSTS = 1_000;

class LeakscopeProxy extends Proxy {
  /** TLS contexts per CONNECT or SNI host: a host's certificate is minted and parsed once while it is in use. */
  private readonly contexts = new LruMap<string, Promise<tls.SecureContext>>(TLS_CONTEXT_CACHE_HOSTS);
  /** Decrypted connections: TLS is ended here and the plain bytes read by one HTTP server, in process. */
  private readonly decrypted = http.createServer();
  private readonly tunnels = new Set<tls.TLSSocket>();

  constructor(private readonly opts: MitmOptions) {
    super();
    this.decrypted.on('request', (req, res) => this._onHttpServerRequest(true, req, res));
    this.decrypted.on('upgrade', (req: http.IncomingMessage, socket: stream.Duplex, head: Buffer) => {
      this.wsServer!.handleUpgrade(req, socket, head, (ws) => {
        (ws as unknown as { upgradeReq: http.IncomingMessage }).upgradeReq = req;
        this._onWebSocketServerConnect(true, ws, req);
      });
    });
    this.decrypted.on('clientError', (err: Error, socket: stream.Duplex) => {
      log.debug({ err: err.message }, 'bad request inside a TLS tunnel');
      socket.destroy();
    });
    limitHeaderTime(this.decrypted, opts.headersTimeout, 'connection');
  }

  // The library would pipe each tunnel into a loopback connection to an HTTPS server it starts per host
  // (one listen() per new host, every byte through two extra sockets). Here the tunnel's own socket is
  // wrapped in TLS with the CONNECT host's certificate and handed to one in-process HTTP server. A tunnel
  // that carries plain HTTP is left to the library.
  override _onHttpServerConnectData(req: http.IncomingMessage, socket: net.Socket, head: Buffer): void {
    if (head[0] === 0x80 || head[0] === 0x00) {
      // SSLv2-style hellos: no current phone sends one, and the library would answer each new host name with
      // a 150 ms RSA key on the event loop, three files in the CA dir and a loopback server kept forever.
      log.debug({ target: req.url }, 'SSLv2-style hello in a tunnel: closed');
      socket.destroy();
      return;
    }
    if (head[0] !== 0x16) return super._onHttpServerConnectData(req, socket, head);
    socket.pause();
    const key = `${socket.remotePort}:${socket.localPort}`;
    this.connectRequests[key] = req;
    socket.once('close', () => delete this.connectRequests[key]);
    socket.unshift(head);
    const host = parseConnectTarget(req.url)!.host;
    this.contextFor(host).then(
      (secureContext) => this.startTls(req, socket, secureContext),
      (err: Error) => {
        log.error({ err: err.message, host }, 'could not mint a certificate');
        socket.destroy();
      },
    );
  }

  private contextFor(host: string): Promise<tls.SecureContext> {
    let entry = this.contexts.get(host);
    if (!entry) {
      const made = this.opts.minter.certificateFor(host).then((leaf) => tls.createSecureContext({ key: leaf.key, cert: leaf.cert }));
      this.contexts.set(host, made);
      made.catch(() => this.contexts.deleteIf(host, made));
      entry = made;
    }
    return entry;
  }

  private startTls(connect: http.IncomingMessage, socket: net.Socket, secureContext: tls.SecureContext): void {
    if (socket.destroyed) return;
    // Buffered bytes (the ClientHello) are read by the TLS socket first.
    const secure = new tls.TLSSocket(socket, {
      isServer: true,
      secureContext,
      ALPNProtocols: ['http/1.1'],
      // Apps that resolve names themselves CONNECT to an address and name the host only in SNI: the certificate
      // must be for the name they check. Without SNI, the CONNECT host's context above serves.
      SNICallback: (servername, done) => {
        if (!SNI_NAME.test(servername)) return done(null, secureContext);
        this.contextFor(servername.toLowerCase()).then((context) => done(null, context), (err: Error) => done(err));
      },
    });
    this.tunnels.add(secure);
    secure.once('close', () => this.tunnels.delete(secure));
    const handshake = setTimeout(() => secure.destroy(), this.opts.headersTimeout).unref();
    const onError = (err: Error) => {
      clearTimeout(handshake);
      this.reportTlsError(err, connect, socket);
      secure.destroy();
    };
    secure.once('error', onError);
    secure.once('secure', () => {
      clearTimeout(handshake);
      secure.off('error', onError);
      this.decrypted.emit('connection', secure);
    });
    socket.resume();
  }

  /** Cuts every decrypted connection (idle keep-alives included): part of stopping. */
  closeTunnels(): void {
    for (const socket of this.tunnels) socket.destroy();
  }

  private reportTlsError(err: Error, connect: http.IncomingMessage, socket: net.Socket): void {
    const event: TlsErrorEvent = {
      time: Date.now(),
      client: normalizeAddress(socket.remoteAddress),
      host: parseConnectTarget(connect.url)?.host ?? 'unknown',
      // OpenSSL's `reason` ("tlsv1 alert unknown ca") says it; the full message is a stack of C file names.
      message: (err as Error & { reason?: string }).reason ?? err.message,
    };
    this.opts.onTlsError(event);
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
  close(): Promise<void>;
}

export function startMitm(opts: MitmOptions): Promise<MitmProxy> {
  const proxy = new LeakscopeProxy(opts);
  const stop = new AbortController();
  // One listener per in-flight exchange: the default cap of 10 would warn under ordinary load.
  setMaxListeners(0, stop.signal);
  let inFlight = 0;
  let idle: (() => void) | undefined;
  const hooks: ForwardHooks = {
    inspect: (request) => opts.hooks.inspect(request),
    complete: (exchange, verdict) => {
      const stored = opts.hooks.complete(exchange, verdict);
      if (--inFlight === 0) idle?.();
      return stored;
    },
  };
  const pool = agentPool(opts.upstreamCa);
  const upstream: UpstreamOptions = {
    agents: pool.agents,
    lookup: opts.guard.lookup,
    via: opts.viaToken,
    timeout: opts.upstreamTimeout,
    stopping: stop.signal,
  };

  proxy.onConnect((req, socket, _head, callback) => {
    if (parseConnectTarget(req.url)) return callback();
    log.debug({ target: req.url?.slice(0, 300) }, 'refused a malformed CONNECT target');
    socket.end('HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\nleakscope: bad CONNECT target\n');
  });

  proxy.onRequest((ctx, _callback) => {
    // We never call the library's callback: `forward` answers the phone itself.
    const req = ctx.clientToProxyRequest;
    const res = ctx.proxyToClientResponse;
    const target = ctx.proxyToServerRequestOptions!;
    const client = normalizeAddress((ctx.connectRequest?.socket ?? req.socket).remoteAddress);
    const host = String(target.host ?? '').toLowerCase();
    const local = opts.localHandler(host);
    if (local) {
      req.resume();
      local(req, res);
      return;
    }
    const port = Number(target.port) || (ctx.isSSL ? 443 : 80);
    const refused = opts.guard.check(client, host, port) ?? viaLoop(req.headers.via, opts.viaToken);
    if (refused) log.warn({ client, host, port }, refused.text.replace(/^leakscope: /, ''));
    inFlight++;
    forward(req, res, { client, host, port, isSSL: ctx.isSSL, refused }, hooks, upstream).catch((err: Error) => {
      log.error({ err: err.message, host }, 'forwarding failed');
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`leakscope: internal error\n`);
    });
  });

  // The library dials WebSocket upgrades itself, by the URL it built: the same guard, agents and lookup as requests.
  proxy.onWebSocketConnection((ctx, callback) => {
    const options = ctx.proxyToServerWebSocketOptions as { url: string; agent?: http.Agent; lookup?: net.LookupFunction };
    const client = normalizeAddress((ctx.connectRequest?.socket ?? (ctx.clientToProxyWebSocket as unknown as { _socket?: net.Socket })._socket)?.remoteAddress);
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      return callback(new Error(`bad WebSocket URL ${options.url.slice(0, 200)}`));
    }
    const port = Number(url.port) || (url.protocol === 'wss:' ? 443 : 80);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const refused = opts.guard.check(client, host, port);
    if (refused) {
      log.warn({ client, host, port }, refused.text.replace(/^leakscope: /, ''));
      return callback(new Error(refused.text));
    }
    const local = isThisMachine(client);
    options.agent = ctx.isSSL ? pool.agents(local).https : pool.agents(local).http;
    options.lookup = opts.guard.lookup(local, port);
    callback();
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
    // WebSocket upgrades are forwarded by the library itself: hand it our agents so it trusts what we trust
    // (each upgrade then gets its client's agents and the guard's lookup, in onWebSocketConnection).
    const remote = pool.agents(false);
    const listenOptions = { host: opts.host, port: opts.port, sslCaDir: opts.caDir, keepAlive: true, forceSNI: false, httpAgent: remote.http, httpsAgent: remote.https };
    proxy.listenFailed = (err) => {
      proxy.listenFailed = undefined;
      pool.destroy();
      reject(err);
    };
    proxy.listen(listenOptions, (err) => {
      proxy.listenFailed = undefined;
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
          pool.destroy();
        },
      });
    });
  });
}
