// Forwards one intercepted request to its upstream and the response back to the phone, byte for byte,
// holding back the first REQUEST_CAPTURE_BYTES of the request body so the pipeline can inspect it
// (and block or rewrite it) before anything leaves. Bodies past the caps stream through untouched.
import http from 'node:http';
import https from 'node:https';
import net, { type LookupFunction, type Socket } from 'node:net';
import type { Transform } from 'node:stream';
import type { CaptureMode, Headers } from '../../shared/types';
import { formatAuthority, parseAuthority } from './connect-target';
import { grpcMessages, isGrpc } from './grpc';
import { PARSER_HEAD_BYTES, REQUEST_CAPTURE_BYTES, RESPONSE_CAPTURE_BYTES } from './limits';
import { serverName as sniFor } from './upstream';
import { isThisMachine, RefusedTarget, type Refusal } from './target-guard';

export interface CapturedRequest {
  client: string;
  /** the entrance it came through (absent: regular) */
  mode?: CaptureMode;
  method: string;
  /** as the app addressed it: the Host header's name (else the host dialled), the port dialled */
  url: string;
  /** the host dialled: the CONNECT target, or an absolute URI's */
  host: string;
  port: number;
  /** the Host header as sent, when it names another host or port than the one dialled */
  hostHeader?: string;
  isSSL: boolean;
  path: string;
  httpVersion: string;
  headers: Headers;
  /** first bytes of the body (all of it unless `bodyTruncated`) */
  body: Buffer;
  bodyTruncated: boolean;
  start: number;
}

/** A blocked request's answer that lets the app carry on: a 204, or an empty body of the type it expects. */
export interface BlockStub {
  status: 204 | 200;
  contentType?: string;
}

/** What the pipeline decided before forwarding. */
export interface Verdict {
  /** `text`: why (the 403's body, or a stream's close reason); `stub`: answer with it instead of the 403 */
  block?: { status: number; text: string; stub?: BlockStub };
  /** a rewritten request to send instead (redaction); headers already fixed up */
  rewrite?: { path: string; headers: Headers; body: Buffer };
}

export interface Exchange {
  request: CapturedRequest;
  /** request bytes seen in all (may exceed what was captured) */
  requestSize: number;
  status?: number;
  statusText?: string;
  responseHeaders?: Headers;
  responseBody: Buffer;
  responseSize: number;
  responseTruncated: boolean;
  /** HTTP/1.1 chunked trailers, as received */
  requestTrailers?: Headers;
  responseTrailers?: Headers;
  remoteAddress?: string;
  wait?: number;
  total: number;
  error?: string;
}

export interface ForwardHooks {
  inspect(request: CapturedRequest): Promise<Verdict>;
  /** one message of a streamed body (gRPC), before it leaves: resolves with a reason to cut the call, if any */
  judgeMessage?(request: CapturedRequest, payload: Buffer, frame: Buffer): Promise<{ close?: string }>;
  /** Called once per exchange, whatever happened, with the verdict that applied; resolves once it is stored. */
  complete(exchange: Exchange, verdict: Verdict): Promise<void>;
}

/** Keep-alive agents for one trust level of client (loopback, or any other): their pools are never shared. */
export interface UpstreamAgents {
  http: http.Agent;
  https: https.Agent;
}

export interface UpstreamOptions {
  /** the agents for loopback clients (`local`) or for every other client */
  agents(local: boolean): UpstreamAgents;
  /** the guard's DNS lookup for dialling `port`: refuses what the client may not reach (target-guard.ts) */
  lookup(local: boolean, port: number): LookupFunction;
  /** leakscope's own `Via` entry (RFC 9110 §7.6.3): a request arriving with it has looped through another proxy */
  via: string;
  /** makes an upstream request as `local`'s or a phone's (capture/upstream.ts: HTTP/1.1 or HTTP/2, as the origin speaks) */
  open(local: boolean, isSSL: boolean, options: https.RequestOptions): http.ClientRequest;
  /** ms to wait for response headers before answering 504 */
  timeout: number;
  /** ms a response (or an upload) may go without a byte either way, once its headers came, before it is cut */
  idleTimeout: number;
  /** aborted when leakscope stops: exchanges still running are cut and recorded as interrupted */
  stopping: AbortSignal;
}

export const INTERRUPTED = 'interrupted: leakscope stopped before the exchange ended';

// Hop-by-hop headers (RFC 9110 §7.6.1) and the proxy's own: never forwarded in either direction. `Trailer`
// (which fields a trailer will carry) is end to end and passes, as the trailers themselves do.
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'proxy-authenticate',
  'te',
  'upgrade',
]);

/** `TE: trailers` is the one TE a proxy that relays trailers may pass on for the client (RFC 9110 §10.1.4). */
const passesOn = (name: string, value: string) => !HOP_BY_HOP.has(name) || (name === 'te' && value.trim().toLowerCase() === 'trailers');

/** Raw header pairs minus hop-by-hop ones, keeping the sender's case and order. */
function forwardableRawHeaders(raw: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (passesOn(raw[i].toLowerCase(), raw[i + 1])) out.push(raw[i], raw[i + 1]);
  }
  return out;
}

/** Trailers as node's addTrailers takes them, sender's case and order kept; undefined when there are none. */
function trailerPairs(raw: string[]): [string, string][] | undefined {
  if (raw.length === 0) return undefined;
  const pairs: [string, string][] = [];
  for (let i = 0; i < raw.length; i += 2) pairs.push([raw[i], raw[i + 1]]);
  return pairs;
}

function headersToRaw(headers: Headers): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(headers)) {
    for (const one of Array.isArray(v) ? v : [v]) out.push(k, one);
  }
  return out;
}

export function rawToHeaders(raw: string[]): Headers {
  const out: Headers = {};
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i].toLowerCase();
    const prev = out[k];
    out[k] = prev === undefined ? raw[i + 1] : ([] as string[]).concat(prev, raw[i + 1]);
  }
  return out;
}

export function describeUpstreamError(err: NodeJS.ErrnoException, target: string): { status: number; text: string } {
  if (err instanceof RefusedTarget) return err.refusal;
  switch (err.code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return { status: 502, text: `leakscope: DNS lookup failed for ${target}` };
    case 'ECONNREFUSED':
      return { status: 502, text: `leakscope: ${target} refused the connection` };
    case 'ETIMEDOUT':
    case 'UPSTREAM_TIMEOUT':
      return { status: 504, text: `leakscope: ${target} did not answer in time` };
    case 'ECONNRESET':
      return { status: 502, text: `leakscope: ${target} reset the connection` };
    case 'ERR_SOCKET_BAD_PORT':
    case 'ERR_INVALID_ARG_VALUE':
      return { status: 502, text: `leakscope: ${target} is not a valid destination` };
    default:
      if (err.code?.startsWith('HPE_')) {
        return { status: 502, text: `leakscope: ${target} sent a malformed HTTP response (${err.code})` };
      }
      if (err.code?.startsWith('ERR_TLS') || /certificate|SSL|TLS/i.test(err.message)) {
        return { status: 502, text: `leakscope: TLS to ${target} failed: ${err.message}` };
      }
      return { status: 502, text: `leakscope: upstream ${target} failed: ${err.code ?? err.message}` };
  }
}

function sendText(res: http.ServerResponse, status: number, text: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) + 1 });
  res.end(text + '\n');
}

/** Reads the request body until it ends or passes the capture cap; then the rest is left in the stream. */
function captureRequestBody(req: http.IncomingMessage): Promise<{ body: Buffer; truncated: boolean; aborted: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (truncated: boolean, aborted: boolean) => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      if (truncated) req.pause();
      resolve({ body: Buffer.concat(chunks), truncated, aborted });
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size > REQUEST_CAPTURE_BYTES) done(true, false);
    };
    const onEnd = () => done(false, false);
    const onClose = () => {
      if (!req.complete) done(false, true);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('close', onClose);
    req.resume();
  });
}

/** Where the phone's request goes, and who sent it. */
export interface ForwardTarget {
  client: string;
  mode?: CaptureMode;
  /** a redirected connection's name from the tunnel's DNS log, when its target is an address */
  name?: string;
  /** what is dialled: the CONNECT target, or an absolute URI's host and port */
  host: string;
  port: number;
  isSSL: boolean;
  /** a guard's refusal (target-guard.ts): the request is recorded and answered with it, never forwarded */
  refused?: Refusal;
  /** the SNI name the phone sent us, sent on to the server and checked against its certificate */
  servername?: string;
}

/** One exchange under way: what the steps of `forward` share. */
interface Run {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  /** host[:port] as the phone's URL names it, for messages */
  authority: string;
  exchange: Exchange;
  verdict: Verdict;
  /** the phone closed its connection before the response ended */
  clientGone: boolean;
  /** sets `exchange.responseBody` from what was kept so far, once a response has begun */
  keptBody?: () => void;
  /** Records the exchange (only the first call counts, an error noted once); resolves once it is stored. */
  complete(error?: string): Promise<void>;
  /** complete() has been called: what is left is the answer, sent once the flow is stored */
  readonly recorded: boolean;
}

const defaultPortOf = (target: ForwardTarget) => (target.isSSL ? 443 : 80);

function authorityOf(target: ForwardTarget): string {
  return formatAuthority(target.host, target.port, defaultPortOf(target));
}

/** Host, or HTTP/2's :authority. */
function hostHeaderOf(req: http.IncomingMessage): string | undefined {
  const value = req.headers.host ?? req.headers[':authority'];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The URL as the app addressed it, the way mitmproxy and HTTP Toolkit show it: an app that resolves names itself
 * (HTTPDNS) CONNECTs to an address and names the host in Host, and `https://api.example.cn/` reads as what it is
 * where `https://203.0.113.7/` would not. The port is the one dialled, so the URL never names a port that was
 * not connected to; the flow keeps the Host header as sent (`hostHeader`) and the address (`destination.ip`).
 */
export function addressedAs(req: http.IncomingMessage, target: ForwardTarget, scheme = target.isSSL ? 'https' : 'http'): { url: string; hostHeader?: string } {
  const sent = hostHeaderOf(req);
  const named = parseAuthority(sent, defaultPortOf(target));
  const name = named?.host ?? target.host;
  const url = `${scheme}://${formatAuthority(name, target.port, defaultPortOf(target))}${req.url ?? '/'}`;
  const differs = sent !== undefined && (named?.host !== target.host || named.port !== target.port);
  return differs ? { url, hostHeader: sent } : { url };
}

/**
 * The host a flow is filed under: the target dialled. A redirected connection's target (transparent, WireGuard)
 * is only the address conntrack gave, so its flow goes under the name the app used instead: the Host header,
 * the SNI, or the name it resolved through the tunnel's DNS.
 */
function recordedHost(req: http.IncomingMessage, target: ForwardTarget): string {
  if (!target.mode || target.mode === 'regular' || !net.isIP(target.host)) return target.host;
  return parseAuthority(hostHeaderOf(req), defaultPortOf(target))?.host ?? target.servername ?? target.name ?? target.host;
}

function capturedRequest(
  req: http.IncomingMessage,
  target: ForwardTarget,
  captured: { body: Buffer; truncated: boolean },
  start: number,
): CapturedRequest {
  const path = req.url ?? '/';
  return {
    client: target.client,
    ...(target.mode ? { mode: target.mode } : {}),
    method: req.method ?? 'GET',
    ...addressedAs(req, target),
    host: recordedHost(req, target),
    port: target.port,
    isSSL: target.isSSL,
    path,
    httpVersion: `HTTP/${req.httpVersion}`,
    headers: req.headers as Headers,
    body: captured.body,
    bodyTruncated: captured.truncated,
    start,
  };
}

function startRun(req: http.IncomingMessage, res: http.ServerResponse, request: CapturedRequest, authority: string, hooks: ForwardHooks): Run {
  const exchange: Exchange = {
    request,
    requestSize: request.body.length,
    responseBody: Buffer.alloc(0),
    responseSize: 0,
    responseTruncated: false,
    total: 0,
  };
  let completed: Promise<void> | undefined;
  const run: Run = {
    req,
    res,
    authority,
    exchange,
    verdict: {},
    clientGone: false,
    get recorded() {
      return completed !== undefined;
    },
    complete(error) {
      if (completed) return completed;
      if (error && !exchange.error) exchange.error = error;
      exchange.total = Date.now() - request.start;
      run.keptBody?.();
      completed = hooks.complete(exchange, run.verdict);
      return completed;
    },
  };
  return run;
}

/** The pipeline's verdict; a detector bug must not cost the phone its request: forward unchanged, note it on the flow. */
async function inspect(run: Run, hooks: ForwardHooks): Promise<Verdict> {
  try {
    return await hooks.inspect(run.exchange.request);
  } catch (err) {
    run.exchange.error = `inspection failed: ${(err as Error).message}`;
    return {};
  }
}

// Whatever the phone sees complete is on disk first (a kill -9 right after must not lose it): every answer
// leakscope gives itself is sent once its flow is stored.
function answerAfterStoring(run: Run, status: number, text: string, error?: string): void {
  run.exchange.status = status;
  void run.complete(error).then(() => sendText(run.res, status, text));
}

function answerStubAfterStoring(run: Run, stub: BlockStub): void {
  run.exchange.status = stub.status;
  void run.complete().then(() => {
    if (run.res.headersSent) return void run.res.destroy();
    run.res.writeHead(stub.status, stub.status === 204 ? {} : { 'content-length': 0, ...(stub.contentType ? { 'content-type': stub.contentType } : {}) });
    run.res.end();
  });
}

function answerUpstreamError(run: Run, err: NodeJS.ErrnoException): void {
  const answer = describeUpstreamError(err, run.authority);
  answerAfterStoring(run, answer.status, answer.text, answer.text.replace(/^leakscope: /, ''));
}

function upstreamRequestOptions(run: Run, target: ForwardTarget, upstream: UpstreamOptions): https.RequestOptions {
  const rewrite = run.verdict.rewrite;
  const rawHeaders = rewrite ? headersToRaw(rewrite.headers) : forwardableRawHeaders(run.req.rawHeaders);
  rawHeaders.push('via', `${run.req.httpVersion} ${upstream.via}`);
  const local = isThisMachine(target.client);
  const agents = upstream.agents(local);
  return {
    host: target.host,
    port: target.port,
    method: run.exchange.request.method,
    path: rewrite?.path ?? run.exchange.request.path,
    headers: rawHeaders as unknown as http.OutgoingHttpHeaders,
    agent: target.isSSL ? agents.https : agents.http,
    lookup: upstream.lookup(local, target.port),
    servername: target.isSSL ? serverName(target) : undefined,
    // A server's long response head reaches the phone as it would directly (node's own cap is 16 KiB).
    maxHeaderSize: PARSER_HEAD_BYTES,
  };
}

/** SNI for the server: the phone's, else the host dialled; an address gets none (SNI carries names, RFC 6066). */
export function serverName(target: ForwardTarget): string | undefined {
  return sniFor(target.servername ?? target.host);
}

/** The one place an upstream request is created. Throws (bad ports and the like) rather than emitting 'error'. */
function openUpstream(target: ForwardTarget, options: https.RequestOptions, upstream: UpstreamOptions): http.ClientRequest {
  return upstream.open(isThisMachine(target.client), target.isSSL, options);
}

/**
 * Leakscope stopping cuts the exchange and records it as interrupted. An exchange already recorded is not cut: its
 * flow says how it ended, and the phone gets that end once it is stored.
 */
function cutOnStop(run: Run, upstreamReq: http.ClientRequest, stopping: AbortSignal): void {
  const interrupt = () => {
    if (run.recorded) return;
    upstreamReq.destroy();
    interruptedByStop(run);
  };
  stopping.addEventListener('abort', interrupt, { once: true });
  run.res.once('close', () => stopping.removeEventListener('abort', interrupt));
}

/** The phone's side of a stop: its connection cut, the flow recorded as interrupted. */
function interruptedByStop(run: Run): void {
  run.exchange.error ??= INTERRUPTED;
  run.res.destroy();
  void run.complete();
}

/**
 * `timeout` bounds the wait for the response's headers (a 504 past it). After them only silence cuts: a stream
 * (SSE, a long poll) lives as long as it would without leakscope, unless no byte passes for `idleTimeout`.
 */
function limitTime(upstreamReq: http.ClientRequest, upstream: UpstreamOptions): void {
  const headersLate = () => upstreamReq.destroy(Object.assign(new Error('upstream timeout'), { code: 'UPSTREAM_TIMEOUT' }));
  upstreamReq.setTimeout(upstream.timeout, headersLate);
  upstreamReq.once('response', () => {
    upstreamReq.off('timeout', headersLate);
    upstreamReq.setTimeout(upstream.idleTimeout, () => {
      upstreamReq.destroy(Object.assign(new Error(`no data either way for ${upstream.idleTimeout} ms`), { code: 'IDLE_TIMEOUT' }));
    });
  });
}

/** The phone leaving, and upstream failures, each answered and recorded. */
function watchUpstream(run: Run, upstreamReq: http.ClientRequest): void {
  const { res, exchange } = run;
  res.on('close', () => {
    if (!res.writableFinished) {
      run.clientGone = true;
      upstreamReq.destroy();
      void run.complete('client closed the connection before the response ended');
    }
  });
  upstreamReq.on('error', (err: NodeJS.ErrnoException) => {
    if (run.clientGone) return;
    if (exchange.status !== undefined) {
      // Headers already went to the phone: all we can do is cut the connection.
      res.destroy();
      const why = err.code === 'IDLE_TIMEOUT' ? `idle timeout: ${err.message}` : err.code ?? err.message;
      void run.complete(`upstream failed mid-response: ${why}`);
      return;
    }
    answerUpstreamError(run, err);
  });
  upstreamReq.on('socket', (socket: Socket) => {
    const remember = () => (exchange.remoteAddress = socket.remoteAddress);
    if (socket.remoteAddress) remember();
    else socket.once('connect', remember);
  });
}

/** Keeps the first RESPONSE_CAPTURE_BYTES of a body; counts the rest. */
function responseKeeper(exchange: Exchange): { keep(chunk: Buffer): void; finish(): Buffer } {
  const kept: Buffer[] = [];
  let keptSize = 0;
  return {
    keep(chunk) {
      exchange.responseSize += chunk.length;
      if (keptSize < RESPONSE_CAPTURE_BYTES) {
        const room = RESPONSE_CAPTURE_BYTES - keptSize;
        kept.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
        keptSize += Math.min(room, chunk.length);
      } else {
        exchange.responseTruncated = true;
      }
    },
    finish: () => (exchange.responseBody = Buffer.concat(kept)),
  };
}

/**
 * How much of the body can go to the phone at once. Every byte goes on as it arrives, except what would let the
 * phone see the response whole before its flow is on disk (a kill -9 then must not lose a flow the phone saw
 * complete). With chunked framing (or an h2 stream) the end is the terminating chunk, which `end()` writes: no
 * data is held. With a Content-Length the last byte is the end, so that one byte is held until the commit. A
 * body without either ends when the connection closes, which again only `end()` does.
 */
function releasable(upstreamRes: http.IncomingMessage): (chunk: Buffer) => Buffer {
  const declared = Number(upstreamRes.headers['content-length']);
  const chunked = /chunked/i.test(String(upstreamRes.headers['transfer-encoding'] ?? ''));
  if (chunked || !Number.isSafeInteger(declared) || declared <= 0) return (chunk) => chunk;
  let left = declared;
  return (chunk) => {
    left -= chunk.length;
    return left > 0 ? chunk : chunk.subarray(0, chunk.length - 1);
  };
}

function relayResponse(run: Run, upstreamRes: http.IncomingMessage): void {
  const { res, exchange } = run;
  exchange.wait = Date.now() - exchange.request.start;
  exchange.status = upstreamRes.statusCode;
  exchange.statusText = upstreamRes.statusMessage;
  exchange.responseHeaders = rawToHeaders(upstreamRes.rawHeaders);
  res.writeHead(
    upstreamRes.statusCode ?? 502,
    upstreamRes.statusMessage,
    forwardableRawHeaders(upstreamRes.rawHeaders) as unknown as http.OutgoingHttpHeaders,
  );
  // The phone gets the headers within this turn of the event loop, not with the first byte of a body that may be
  // a while coming; a body that came in the same read goes with them, in one write (a small answer was three).
  let bodyWritten = false;
  setImmediate(() => {
    if (!bodyWritten && !res.destroyed) res.flushHeaders();
  });
  const keeper = responseKeeper(exchange);
  run.keptBody = keeper.finish;
  const release = releasable(upstreamRes);
  let held: Buffer = Buffer.alloc(0);
  const resume = () => upstreamRes.resume();
  upstreamRes.on('data', (chunk: Buffer) => {
    keeper.keep(chunk);
    const now = release(chunk);
    if (now.length < chunk.length) held = chunk.subarray(now.length);
    if (now.length === 0) return;
    bodyWritten = true;
    if (!run.clientGone && !res.write(now)) {
      upstreamRes.pause();
      res.once('drain', resume);
    }
  });
  upstreamRes.on('close', () => {
    if (!upstreamRes.complete && !run.clientGone) {
      // pipe() does not end the phone's response on a source error: cut it so the phone sees the failure.
      res.destroy();
      void run.complete('upstream closed the connection mid-response');
    }
  });
  upstreamRes.on('end', () => {
    const trailers = trailerPairs(upstreamRes.rawTrailers);
    if (trailers) {
      exchange.responseTrailers = rawToHeaders(upstreamRes.rawTrailers);
      res.addTrailers(trailers);
    }
    void run.complete().then(() => res.end(held));
  });
}

/**
 * The captured head of the body (or its rewrite), then the rest of the phone's upload as it comes; a streamed
 * body (gRPC) passes message by message through `messages`.
 */
function sendRequestBody(run: Run, upstreamReq: http.ClientRequest, captured: { body: Buffer; truncated: boolean }, messages?: Transform): void {
  const { req, exchange } = run;
  // Trailers come after the last chunk; they go on the same way (only with chunked framing, as they came).
  const endWithTrailers = (body?: Buffer) => {
    const trailers = trailerPairs(req.rawTrailers);
    if (trailers) {
      exchange.requestTrailers = rawToHeaders(req.rawTrailers);
      upstreamReq.addTrailers(trailers);
    }
    upstreamReq.end(body);
  };
  const rewrite = run.verdict.rewrite;
  if (rewrite) return endWithTrailers(rewrite.body);
  upstreamReq.write(captured.body);
  if (!captured.truncated) return endWithTrailers();
  req.on('data', (chunk: Buffer) => (exchange.requestSize += chunk.length));
  const body = messages ? req.pipe(messages) : req;
  body.on('end', () => endWithTrailers());
  messages?.on('error', (err) => {
    upstreamReq.destroy();
    run.res.destroy();
    void run.complete(err.message);
  });
  req.on('close', () => {
    if (!req.complete) {
      upstreamReq.destroy();
      void run.complete('client closed the connection mid-request');
    }
  });
  body.pipe(upstreamReq, { end: false });
}

export async function forward(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  target: ForwardTarget,
  hooks: ForwardHooks,
  upstream: UpstreamOptions,
): Promise<void> {
  const start = Date.now();
  // A gRPC call's messages are judged one by one as they pass: nothing of its body is held up front.
  const streamed = hooks.judgeMessage && isGrpc(req.headers as Headers);
  const captured = streamed ? { body: Buffer.alloc(0), truncated: true, aborted: false } : await captureRequestBody(req);
  const run = startRun(req, res, capturedRequest(req, target, captured, start), authorityOf(target), hooks);
  if (captured.aborted) {
    void run.complete('client closed the connection mid-request');
    return;
  }
  run.verdict = await inspect(run, hooks);
  if (target.refused) {
    if (captured.truncated) req.destroy();
    answerAfterStoring(run, target.refused.status, target.refused.text, target.refused.text.replace(/^leakscope: /, ''));
    return;
  }
  const block = run.verdict.block;
  if (block) {
    if (captured.truncated) req.destroy();
    if (block.stub) answerStubAfterStoring(run, block.stub);
    else answerAfterStoring(run, block.status, block.text);
    return;
  }
  // A request on a kept-alive connection while leakscope stops goes no further than the proxy.
  if (upstream.stopping.aborted) {
    interruptedByStop(run);
    return;
  }
  let upstreamReq: http.ClientRequest;
  try {
    upstreamReq = openUpstream(target, upstreamRequestOptions(run, target, upstream), upstream);
  } catch (err) {
    req.resume();
    answerUpstreamError(run, err as NodeJS.ErrnoException);
    return;
  }
  cutOnStop(run, upstreamReq, upstream.stopping);
  limitTime(upstreamReq, upstream);
  watchUpstream(run, upstreamReq);
  upstreamReq.on('response', (upstreamRes) => relayResponse(run, upstreamRes));
  const request = run.exchange.request;
  const messages = streamed ? grpcMessages(request.headers, (payload, frame) => hooks.judgeMessage!(request, payload, frame)) : undefined;
  sendRequestBody(run, upstreamReq, captured, messages);
}
