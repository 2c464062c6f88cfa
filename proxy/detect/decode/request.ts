// Where a request can carry identifiers: URL path and query, headers, cookies, body (multipart included).
import type { Headers, Where } from '../../../shared/types';
import type { Segment } from '../segment';
import { formPairs } from './containers';
import { expandBytes, expandValue } from './expand';
import { undoContentEncoding } from './inflate';
import { SegmentSink, type Place } from './sink';

export interface RequestParts {
  url: string;
  headers: Headers;
  body?: Buffer;
}

function top(where: Where, path: string, key: string): Place {
  return { where, path, chain: [], key, parent: '', inList: false };
}

function header(headers: Headers, name: string): string | undefined {
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() === name) return Array.isArray(v) ? v.join(', ') : v;
  }
  return undefined;
}

async function urlSegments(url: string, sink: SegmentSink): Promise<void> {
  const queryStart = url.indexOf('?');
  const beforeQuery = queryStart < 0 ? url : url.slice(0, queryStart);
  const query = queryStart < 0 ? '' : url.slice(queryStart + 1).split('#')[0];
  // Host labels and path segments: the previous segment names the next (/imei/8651…).
  const pathStart = beforeQuery.indexOf('/', beforeQuery.indexOf('://') + 3);
  const host = beforeQuery.slice(beforeQuery.indexOf('://') + 3, pathStart < 0 ? undefined : pathStart);
  await expandValue(host, top('url', '(host)', 'host'), sink);
  const segments = pathStart < 0 ? [] : beforeQuery.slice(pathStart + 1).split('/');
  for (let i = 0; i < segments.length; i++) {
    await expandValue(segments[i], top('url', '(path)', i > 0 ? segments[i - 1] : ''), sink);
  }
  for (const pair of formPairs(query)) await expandValue(pair.value, top('url', pair.path, pair.key), sink);
}

async function headerSegments(headers: Headers, sink: SegmentSink): Promise<void> {
  for (const [rawName, rawValue] of Object.entries(headers)) {
    const name = rawName.toLowerCase();
    for (const value of Array.isArray(rawValue) ? rawValue : [rawValue]) {
      if (name === 'cookie') {
        for (const crumb of value.split(/;\s*/)) {
          const eq = crumb.indexOf('=');
          if (eq > 0) await expandValue(crumb.slice(eq + 1), top('cookie', crumb.slice(0, eq).trim(), crumb.slice(0, eq).trim()), sink);
        }
      } else {
        await expandValue(value, top('header', name, name), sink);
      }
    }
  }
}

function multipartBoundary(contentType: string | undefined): string | undefined {
  const m = contentType && /^multipart\/[^;]+;.*\bboundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return m ? (m[1] ?? m[2]) : undefined;
}

async function multipartSegments(body: Buffer, boundary: string, chain: string[], sink: SegmentSink): Promise<void> {
  const delimiter = Buffer.from(`--${boundary}`);
  let at = body.indexOf(delimiter);
  while (at >= 0 && !sink.exhausted) {
    const next = body.indexOf(delimiter, at + delimiter.length);
    const part = body.subarray(at + delimiter.length, next < 0 ? body.length : next);
    at = next;
    const headEnd = part.indexOf('\r\n\r\n');
    if (headEnd < 0) continue;
    const head = part.toString('latin1', 0, headEnd);
    const name = /name="([^"]*)"/i.exec(head)?.[1] ?? '';
    let content = part.subarray(headEnd + 4);
    if (content.subarray(-2).toString('latin1') === '\r\n') content = content.subarray(0, -2);
    let place: Place = { where: 'body', path: name, chain, key: name, parent: '', inList: false };
    if (/content-transfer-encoding:\s*base64/i.test(head)) {
      content = Buffer.from(content.toString('latin1'), 'base64');
      place = { ...place, chain: ['base64', ...chain] };
    }
    await expandBytes(content, place, sink);
  }
}

async function bodySegments(parts: RequestParts, sink: SegmentSink): Promise<void> {
  if (!parts.body || parts.body.length === 0) return;
  const raw = parts.body.subarray(0, sink.byteLimit);
  const decoded = await undoContentEncoding(raw, header(parts.headers, 'content-encoding'), sink.byteLimit);
  const chain = decoded.chain;
  const boundary = multipartBoundary(header(parts.headers, 'content-type'));
  if (boundary) return multipartSegments(decoded.data, boundary, chain, sink);
  await expandBytes(decoded.data, { where: 'body', path: '', chain, key: '', parent: '', inList: false }, sink);
}

/** Every decoded string of a request, each with where it sat and how it was encoded. */
export async function requestSegments(parts: RequestParts, byteLimit: number): Promise<Segment[]> {
  const sink = new SegmentSink(byteLimit);
  await urlSegments(parts.url, sink);
  await headerSegments(parts.headers, sink);
  await bodySegments(parts, sink);
  return sink.segments;
}

/** A WebSocket message: text or binary frame payload, decoded like a body. */
export async function messageSegments(message: Buffer | string, byteLimit: number): Promise<Segment[]> {
  const sink = new SegmentSink(byteLimit);
  const place: Place = { where: 'websocket', path: '', chain: [], key: '', parent: '', inList: false };
  if (typeof message === 'string') await expandValue(message.slice(0, byteLimit), place, sink);
  else await expandBytes(message.subarray(0, byteLimit), place, sink);
  return sink.segments;
}
