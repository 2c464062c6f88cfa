// A stand-in for `http.ClientRequest` while an upstream's protocol is being learned, and for every request to an
// origin that speaks HTTP/2: a Writable for the request body with the events `forward` listens to ('socket',
// 'response', 'timeout', 'error'), whose response looks like an `http.IncomingMessage` (statusCode, rawHeaders,
// rawTrailers, complete). Whatever protocol the phone speaks, it is answered in its own.
import http from 'node:http';
import http2 from 'node:http2';
import type https from 'node:https';
import { Writable } from 'node:stream';

type Learned = { protocol: 'h1' } | { protocol: 'h2'; session: http2.ClientHttp2Session };
type Target = http.ClientRequest | http2.ClientHttp2Stream;

/** Fields that belong to one HTTP/1 connection and have no place in HTTP/2 (RFC 9113 §8.2.2). */
const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host']);

/** HTTP/1-style raw header pairs as an HTTP/2 request's header block, the Host header as `:authority`. */
export function h2RequestHeaders(options: https.RequestOptions): http2.OutgoingHttpHeaders {
  const raw = (options.headers ?? []) as unknown as string[];
  const out: http2.OutgoingHttpHeaders = {};
  let authority = `${options.host}:${options.port}`;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    const value = raw[i + 1];
    if (name === 'host') authority = value;
    if (CONNECTION_SPECIFIC.has(name) || (name === 'te' && value.trim().toLowerCase() !== 'trailers')) continue;
    const prev = out[name];
    if (prev === undefined) out[name] = value;
    else if (name === 'cookie') out[name] = `${String(prev)}; ${value}`;
    else out[name] = ([] as string[]).concat(prev as string | string[], value);
  }
  return { ...out, ':method': options.method ?? 'GET', ':path': options.path ?? '/', ':scheme': 'https', ':authority': authority };
}

/** An HTTP/2 header block as HTTP/1-style raw pairs, pseudo-headers left out. */
export function rawPairs(headers: http2.IncomingHttpHeaders): string[] {
  const raw: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith(':') || value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) raw.push(name, String(one));
  }
  return raw;
}

/** Gives an HTTP/2 response stream the face of an `http.IncomingMessage`. */
function asIncomingMessage(stream: http2.ClientHttp2Stream, headers: http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader): http.IncomingMessage {
  const status = Number(headers[':status']);
  const res = Object.assign(stream, {
    statusCode: status,
    statusMessage: http.STATUS_CODES[status] ?? '',
    httpVersion: '2.0',
    rawHeaders: rawPairs(headers),
    headers: Object.fromEntries(Object.entries(headers).filter(([k]) => !k.startsWith(':'))),
    rawTrailers: [] as string[],
    trailers: {} as http2.IncomingHttpHeaders,
    complete: false,
  });
  stream.once('trailers', (trailers: http2.IncomingHttpHeaders) => {
    res.rawTrailers = rawPairs(trailers);
    res.trailers = trailers;
  });
  stream.once('end', () => (res.complete = true));
  return res as unknown as http.IncomingMessage;
}

export class H2UpstreamRequest extends Writable {
  private target?: Target;
  private waiting: (() => void)[] = [];
  private trailers?: [string, string][];
  private timeoutMs?: number;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly options: https.RequestOptions,
    learned: Promise<Learned>,
    /** the request over HTTP/1.1, for an origin that turned out to speak it */
    h1: () => http.ClientRequest,
  ) {
    // Finishing the body must not end the exchange: the response is still to come.
    super({ autoDestroy: false });
    learned.then(
      (l) => {
        if (this.destroyed) return;
        try {
          this.attach(l.protocol === 'h1' ? this.relayH1(h1()) : this.relayH2(l.session));
        } catch (err) {
          this.destroy(err as Error);
        }
      },
      (err: Error) => this.destroy(err),
    );
  }

  private relayH1(req: http.ClientRequest): Target {
    req.on('socket', (socket) => this.emit('socket', socket));
    req.on('response', (res) => this.emit('response', res));
    req.on('error', (err) => this.destroy(err));
    return req;
  }

  private relayH2(session: http2.ClientHttp2Session): Target {
    // The body (even a GET's empty one) and any trailers follow as `forward` writes them: node would otherwise end a
    // GET's stream with its headers.
    const stream = session.request(h2RequestHeaders(this.options), { endStream: false, waitForTrailers: true });
    this.emit('socket', session.socket);
    stream.once('wantTrailers', () => stream.sendTrailers(Object.fromEntries(this.trailers ?? [])));
    stream.once('response', (headers) => this.emit('response', asIncomingMessage(stream, headers)));
    stream.on('error', (err) => this.destroy(err));
    return stream;
  }

  private attach(target: Target): void {
    this.target = target;
    if (this.timeoutMs !== undefined) this.setTimeout(this.timeoutMs);
    for (const go of this.waiting.splice(0)) go();
  }

  private whenAttached(go: (target: Target) => void): void {
    if (this.target) go(this.target);
    else this.waiting.push(() => go(this.target!));
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    if (chunk.length === 0) return done();
    this.whenAttached((t) => t.write(chunk, (err?: Error | null) => done(err)));
  }

  override _final(done: (err?: Error | null) => void): void {
    this.whenAttached((t) => {
      if (this.trailers && 'addTrailers' in t) t.addTrailers(this.trailers);
      t.end(() => done());
    });
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    clearTimeout(this.timer);
    this.target?.destroy();
    done(err);
  }

  /** Trailers to send after the body (set before `end`). */
  addTrailers(trailers: [string, string][]): void {
    this.trailers = trailers;
  }

  /** As ClientRequest's: 'timeout' after `ms` without activity (until the protocol is known: `ms` in all). */
  setTimeout(ms: number, onTimeout?: () => void): this {
    if (onTimeout) this.on('timeout', onTimeout);
    this.timeoutMs = ms;
    clearTimeout(this.timer);
    const fire = () => this.emit('timeout');
    if (this.target) this.target.setTimeout(ms, fire);
    else this.timer = setTimeout(fire, ms);
    return this;
  }
}
