// Flows as HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/), each entry carrying `_leakscope`
// (findings, client, device, destination, tags, marked, comment, action, tracker) as CONTRACT.md fixes. Written entry
// by entry so an
// export of a day's capture never sits whole in memory.
import type { Body, Flow, Headers } from '../../shared/types';
import { headerValue } from '../capture/body';
import { VERSION } from '../version';


type HarHeader = { name: string; value: string };

function harHeaders(headers: Headers | undefined): HarHeader[] {
  const out: HarHeader[] = [];
  for (const [name, v] of Object.entries(headers ?? {})) {
    for (const value of Array.isArray(v) ? v : [v]) out.push({ name, value: String(value) });
  }
  return out;
}

function cookies(headers: Headers | undefined, name: 'cookie' | 'set-cookie'): { name: string; value: string }[] {
  const raw = headers?.[name];
  if (!raw) return [];
  const parts = name === 'cookie' ? String(raw).split(/;\s*/) : ([] as string[]).concat(raw).map((c) => c.split(';')[0]);
  return parts
    .filter((p) => p.includes('='))
    .map((p) => {
      const i = p.indexOf('=');
      return { name: p.slice(0, i).trim(), value: p.slice(i + 1).trim() };
    });
}

function queryString(url: string): HarHeader[] {
  try {
    return [...new URL(url).searchParams].map(([name, value]) => ({ name, value }));
  } catch {
    return [];
  }
}

function content(body: Body | undefined, mimeType: string) {
  if (!body) return { size: 0, mimeType, text: '' };
  return {
    size: body.size,
    mimeType,
    text: body.text,
    ...(body.encoding === 'base64' ? { encoding: 'base64' } : {}),
    ...(body.truncated ? { comment: 'truncated by leakscope: only the first part was kept' } : {}),
  };
}

export function harEntry(flow: Flow) {
  const requestType = headerValue(flow.requestHeaders, 'content-type') ?? 'application/octet-stream';
  const responseType = headerValue(flow.responseHeaders, 'content-type') ?? 'application/octet-stream';
  const wait = Math.max(flow.timings.wait ?? 0, 0);
  const total = Math.max(flow.timings.total ?? wait, wait);
  const redirect = headerValue(flow.responseHeaders, 'location') ?? '';
  return {
    startedDateTime: new Date(flow.timings.start).toISOString(),
    time: total,
    request: {
      method: flow.method,
      url: flow.url,
      httpVersion: flow.httpVersion,
      cookies: cookies(flow.requestHeaders, 'cookie'),
      headers: harHeaders(flow.requestHeaders),
      queryString: queryString(flow.url),
      ...(flow.requestBody ? { postData: { mimeType: requestType, ...postText(flow.requestBody) } } : {}),
      headersSize: -1,
      bodySize: flow.requestBody?.size ?? 0,
    },
    response: {
      status: flow.status ?? 0,
      statusText: flow.statusText ?? (flow.error ? flow.error : ''),
      httpVersion: flow.httpVersion,
      cookies: cookies(flow.responseHeaders, 'set-cookie'),
      headers: harHeaders(flow.responseHeaders),
      content: content(flow.responseBody, responseType),
      redirectURL: redirect,
      headersSize: -1,
      bodySize: flow.responseBody?.size ?? -1,
    },
    cache: {},
    timings: { send: 0, wait, receive: Math.max(total - wait, 0) },
    ...(flow.kind === 'websocket' ? webSocketFields(flow) : {}),
    ...(flow.destination?.ip ? { serverIPAddress: flow.destination.ip } : {}),
    _leakscope: {
      id: flow.id,
      ...(flow.mode ? { mode: flow.mode } : {}),
      ...(flow.instance ? { instance: flow.instance } : {}),
      findings: flow.findings,
      client: flow.client,
      device: flow.device ?? null,
      destination: flow.destination ?? {},
      ...(flow.hostHeader ? { hostHeader: flow.hostHeader } : {}),
      tags: flow.tags,
      ...(flow.marked ? { marked: true } : {}),
      ...(flow.comment ? { comment: flow.comment } : {}),
      ...(flow.action ? { action: flow.action } : {}),
      ...(flow.error ? { error: flow.error } : {}),
      ...(flow.tracker ? { tracker: flow.tracker } : {}),
      ...(flow.sentBody ? { sentBody: flow.sentBody } : {}),
      ...(flow.sentUrl ? { sentUrl: flow.sentUrl } : {}),
      // HAR 1.2 has no place for trailers; they are kept here as headers are, name/value pairs
      ...(flow.requestTrailers ? { requestTrailers: harHeaders(flow.requestTrailers) } : {}),
      ...(flow.responseTrailers ? { responseTrailers: harHeaders(flow.responseTrailers) } : {}),
    },
  };
}

/** A WebSocket's messages as Chrome DevTools exports them: `time` in epoch seconds, opcode 1 text or 2 binary (base64). */
function webSocketFields(flow: Flow) {
  return {
    _resourceType: 'websocket',
    _webSocketMessages: (flow.messages ?? []).map((m) => ({ type: m.type, time: m.time / 1000, opcode: m.opcode, data: m.data })),
  };
}

// HAR 1.2 gives postData no base64 flag; CONTRACT.md marks binary request bodies the way content does.
function postText(body: Body) {
  return body.encoding === 'base64' ? { text: body.text, encoding: 'base64' } : { text: body.text };
}

/** Writes HAR JSON for `flows` through `write`, one entry at a time. Returns the number of entries. */
/**
 * A HAR document written entry by entry. The head goes out with the first entry (or at the end): a store that
 * fails on its first page leaves the response unwritten, for its error to be answered.
 */
export class HarWriter {
  private n = 0;

  constructor(private readonly write: (chunk: string) => void) {}

  private head(): void {
    const log = { version: '1.2', creator: { name: 'leakscope', version: VERSION }, pages: [] };
    this.write(`${JSON.stringify({ log }).slice(0, -2)},"entries":[\n`);
  }

  add(flow: Flow): void {
    if (this.n === 0) this.head();
    this.write((this.n ? ',\n' : '') + JSON.stringify(harEntry(flow)));
    this.n++;
  }

  /** Closes the document; the number of entries. */
  end(): number {
    if (this.n === 0) this.head();
    this.write('\n]}}\n');
    return this.n;
  }
}

export function writeHar(flows: Iterable<Flow>, write: (chunk: string) => void): number {
  const har = new HarWriter(write);
  for (const flow of flows) har.add(flow);
  return har.end();
}
