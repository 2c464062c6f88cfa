// The phone's side of HTTP/2: one in-process h2 server reads every connection that negotiated `h2` (or sent
// the preface); each stream is a request handed, through node's compatibility API, to the same `forward` as
// HTTP/1 requests, which then see the HTTP/1-shaped request and response they expect.
import http from 'node:http';
import http2 from 'node:http2';
import { PARSER_HEAD_BYTES } from './limits';
import type { Interception, PlainSide } from './classify';
import { rawPairs } from './upstream-h2';

export type H2Handler = (req: http.IncomingMessage, res: http.ServerResponse, interception: Interception) => void;

/** Response fields of one HTTP/1 connection (an HTTP/1.1 upstream's `Transfer-Encoding`): HTTP/2 forbids them. */
const NOT_IN_H2 = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

function h2Safe(headers: unknown): unknown {
  if (!Array.isArray(headers)) return headers;
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) if (!NOT_IN_H2.has(String(headers[i]).toLowerCase())) out.push(headers[i], headers[i + 1]);
  return out;
}

/**
 * The stream's request as HTTP/1 code reads one: headers without pseudo-headers but with `host` (from
 * `:authority`, as an HTTP/1 origin needs it), version `2`; the response's writeHead and addTrailers taking
 * HTTP/1-style raw pairs, minus the fields HTTP/2 forbids.
 */
function asHttp1(req: http2.Http2ServerRequest, res: http2.Http2ServerResponse): void {
  const authority = req.authority;
  const raw = rawPairs(req.headers).filter((_v, i, all) => i % 2 === 1 || all[i] !== 'host');
  const rawHeaders = authority ? ['host', authority, ...raw] : raw;
  const headers: http.IncomingHttpHeaders = {};
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const prev = headers[rawHeaders[i]];
    headers[rawHeaders[i]] = prev === undefined ? rawHeaders[i + 1] : ([] as string[]).concat(prev, rawHeaders[i + 1]);
  }
  Object.defineProperties(req, {
    rawHeaders: { value: rawHeaders },
    headers: { value: headers },
    httpVersion: { value: '2' },
  });
  const writeHead = res.writeHead.bind(res) as (status: number, headers?: unknown) => http2.Http2ServerResponse;
  // HTTP/2 has no reason phrase; the headers lose what it forbids.
  res.writeHead = ((status: number, reason?: unknown, fields?: unknown) =>
    writeHead(status, h2Safe(typeof reason === 'string' ? fields : reason))) as unknown as typeof res.writeHead;
  const addTrailers = res.addTrailers.bind(res);
  res.addTrailers = ((trailers: unknown) => {
    if (!Array.isArray(trailers)) return addTrailers(trailers as http.OutgoingHttpHeaders);
    const fields: http.OutgoingHttpHeaders = {};
    for (const [name, value] of trailers as [string, string][]) {
      const key = name.toLowerCase();
      const prev = fields[key];
      fields[key] = prev === undefined ? value : ([] as string[]).concat(prev as string | string[], value);
    }
    addTrailers(fields);
  }) as typeof res.addTrailers;
}

export interface H2Front {
  accept(side: PlainSide): void;
}

export function h2Front(handler: H2Handler): H2Front {
  // As for HTTP/1.1 (request-head.ts): heads are read whole up to the parser's cap, judged by the same limit.
  const server = http2.createServer({ settings: { maxHeaderListSize: PARSER_HEAD_BYTES } });
  const sessions = new WeakMap<http2.ServerHttp2Session, Interception>();
  let accepting: Interception | undefined;
  // 'session' is emitted while 'connection' is: the interception being accepted is this session's.
  server.on('session', (session) => {
    if (accepting) sessions.set(session, accepting);
    session.on('error', () => {});
  });
  server.on('request', (req, res) => {
    const interception = sessions.get(req.stream.session as http2.ServerHttp2Session);
    if (!interception) return res.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    asHttp1(req, res);
    handler(req as unknown as http.IncomingMessage, res as unknown as http.ServerResponse, interception);
  });
  return {
    accept(side) {
      accepting = side.interception;
      try {
        server.emit('connection', side.socket);
      } finally {
        accepting = undefined;
      }
    },
  };
}
