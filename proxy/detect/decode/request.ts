// Where a request can carry identifiers: URL path and query, headers, cookies, body (multipart included).
import type { Headers, Where } from '../../../shared/types';
import type { Segment } from '../segment';
import { formPairs } from './containers';
import { after, expandBytes, expandFormBody, expandProtobufBody, expandValue, expandValueAfter, runSteps, type Pending, type Step } from './expand';
import { undoContentEncoding, type Undone } from './inflate';
import { SegmentSink, type Place } from './sink';

export interface RequestParts {
  url: string;
  headers: Headers;
  body?: Buffer;
}

function top(where: Where, path: string, key: string): Place {
  return { where, path, chain: [], key, parent: '', inList: false, parentKey: '' };
}

function header(headers: Headers, name: string): string | undefined {
  for (const k in headers) {
    if (k.toLowerCase() === name) {
      const v = headers[k];
      return Array.isArray(v) ? v.join(', ') : v;
    }
  }
  return undefined;
}

function scanUrl(url: string, sink: SegmentSink): Pending {
  const queryStart = url.indexOf('?');
  const beforeQuery = queryStart < 0 ? url : url.slice(0, queryStart);
  const query = queryStart < 0 ? '' : url.slice(queryStart + 1).split('#')[0];
  // Host labels and path segments: the previous segment names the next (/imei/8651…).
  const pathStart = beforeQuery.indexOf('/', beforeQuery.indexOf('://') + 3);
  const host = beforeQuery.slice(beforeQuery.indexOf('://') + 3, pathStart < 0 ? undefined : pathStart);
  let pending = expandValue(host, top('url', '(host)', 'host'), sink);
  const segments = pathStart < 0 ? [] : beforeQuery.slice(pathStart + 1).split('/');
  for (let i = 0; i < segments.length; i++) {
    pending = expandValueAfter(pending, segments[i], top('url', '(path)', i > 0 ? segments[i - 1] : ''), sink);
  }
  for (const pair of formPairs(query)) pending = expandValueAfter(pending, pair.value, top('url', pair.path, pair.key), sink);
  return pending;
}

function scanHeaders(headers: Headers, sink: SegmentSink, pending: Pending): Pending {
  for (const rawName in headers) {
    const rawValue = headers[rawName];
    if (rawValue === undefined) continue;
    const name = rawName.toLowerCase();
    for (const value of Array.isArray(rawValue) ? rawValue : [rawValue]) {
      if (name === 'cookie') {
        for (const crumb of value.split(/;\s*/)) {
          const eq = crumb.indexOf('=');
          if (eq > 0) {
            const crumbName = crumb.slice(0, eq).trim();
            pending = expandValueAfter(pending, crumb.slice(eq + 1), top('cookie', crumbName, crumbName), sink);
          }
        }
      } else if (value.length >= 6) {
        pending = expandValueAfter(pending, value, top('header', name, name), sink);
      }
    }
  }
  return pending;
}

function multipartBoundary(contentType: string | undefined): string | undefined {
  const m = contentType && /^multipart\/[^;]+;.*\bboundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return m ? (m[1] ?? m[2]) : undefined;
}

/** `--boundary` and a part's headers on the first lines: multipart, whatever Content-Type said. */
function sniffedBoundary(body: Buffer): string | undefined {
  if (body[0] !== 0x2d || body[1] !== 0x2d) return undefined; // --
  const m = /^--([!-~]{1,70})\r?\nContent-(?:Disposition|Type):/i.exec(body.toString('latin1', 0, 200));
  return m?.[1];
}

const PROTOBUF_TYPES = /^application\/(?:(?:x-)?(?:google-)?protobuf|vnd\.google\.protobuf|grpc)\b/i;

function multipartSteps(body: Buffer, boundary: string, chain: string[], sink: SegmentSink): Step[] {
  const steps: Step[] = [];
  const delimiter = Buffer.from(`--${boundary}`);
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    const next = body.indexOf(delimiter, at + delimiter.length);
    const part = body.subarray(at + delimiter.length, next < 0 ? body.length : next);
    at = next;
    const headEnd = part.indexOf('\r\n\r\n');
    if (headEnd < 0) continue;
    const head = part.toString('latin1', 0, headEnd);
    const name = /name="([^"]*)"/i.exec(head)?.[1] ?? '';
    let content = part.subarray(headEnd + 4);
    if (content.subarray(-2).toString('latin1') === '\r\n') content = content.subarray(0, -2);
    let place: Place = { where: 'body', path: name, chain, key: name, parent: '', inList: false, parentKey: '' };
    if (/content-transfer-encoding:\s*base64/i.test(head)) {
      const decoded = Buffer.from(content.toString('latin1'), 'base64');
      content = decoded;
      place = { ...place, chain: ['base64', ...chain] };
    }
    const partContent = content;
    const partPlace = place;
    steps.push(() => (sink.exhausted ? undefined : expandBytes(partContent, partPlace, sink)));
  }
  return steps;
}

function bodyFrom(decoded: Undone, parts: RequestParts, sink: SegmentSink): Pending {
  const chain = decoded.chain;
  const contentType = header(parts.headers, 'content-type');
  // The declared type is trusted where it says more than the bytes could (a boundary, protobuf that reads
  // as text); otherwise the bytes say what the body is: JSON, a form, compression, protobuf or gRPC frames.
  const boundary = multipartBoundary(contentType) ?? sniffedBoundary(decoded.data);
  if (boundary) return runSteps(multipartSteps(decoded.data, boundary, chain, sink));
  const place: Place = { where: 'body', path: '', chain, key: '', parent: '', inList: false, parentKey: '' };
  if (contentType && /^application\/x-www-form-urlencoded\b/i.test(contentType)) return expandFormBody(decoded.data, place, sink);
  if (contentType && PROTOBUF_TYPES.test(contentType)) return expandProtobufBody(decoded.data, place, sink);
  return expandBytes(decoded.data, place, sink);
}

function bodyStep(parts: RequestParts, sink: SegmentSink): Pending {
  if (!parts.body || parts.body.length === 0) return undefined;
  const raw = parts.body.subarray(0, sink.byteLimit);
  const decoded = undoContentEncoding(raw, header(parts.headers, 'content-encoding'), sink.byteLimit);
  if (decoded instanceof Promise) return decoded.then((d) => bodyFrom(d, parts, sink));
  return bodyFrom(decoded, parts, sink);
}

/** Every decoded string of a request, each with where it sat and how it was encoded. */
export function requestSegments(parts: RequestParts, byteLimit: number): Segment[] | Promise<Segment[]> {
  const sink = new SegmentSink(byteLimit);
  const pending = after(scanHeaders(parts.headers, sink, scanUrl(parts.url, sink)), () => bodyStep(parts, sink));
  return pending ? pending.then(() => sink.segments) : sink.segments;
}

/** A WebSocket message (text or binary frame payload) or a read of a raw stream, decoded like a body. */
export function messageSegments(message: Buffer | string, byteLimit: number, where: 'websocket' | 'tcp' = 'websocket'): Segment[] | Promise<Segment[]> {
  const sink = new SegmentSink(byteLimit);
  const place: Place = { where, path: '', chain: [], key: '', parent: '', inList: false, parentKey: '' };
  const pending = typeof message === 'string' ? expandValue(message.slice(0, byteLimit), place, sink) : expandBytes(message.subarray(0, byteLimit), place, sink);
  return pending ? pending.then(() => sink.segments) : sink.segments;
}
