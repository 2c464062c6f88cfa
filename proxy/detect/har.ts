// The part of a HAR file `scan` needs: each entry's request, with its body as raw bytes.
import type { Body, Destination, Headers } from '../../shared/types';
import type { ScanInput } from './index';

export interface HarRequestEntry extends ScanInput {
  method: string;
  /** what `scan --filter` also looks at: the response, and what a leakscope export recorded */
  response: { status?: number; headers: Headers; body?: Body };
  leakscope: { device?: string; client?: string; destination?: Destination; marked?: boolean };
}

interface HarHeader {
  name: string;
  value: string;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function headersOf(list: HarHeader[]): Headers {
  const headers: Headers = {};
  for (const { name, value } of list) {
    const key = name.toLowerCase();
    const prior = headers[key];
    headers[key] = prior === undefined ? value : [...(Array.isArray(prior) ? prior : [prior]), value];
  }
  return headers;
}

/**
 * HAR bodies are decoded text (or base64 with `encoding`), so Content-Encoding is already undone:
 * drop the header so the detector does not try to inflate plain text.
 */
function requestOf(entry: unknown, i: number): HarRequestEntry {
  const where = `log.entries[${i}].request`;
  if (!isObject(entry) || !isObject(entry.request)) throw new Error(`${where}: missing`);
  const { method, url, headers, postData } = entry.request;
  if (typeof method !== 'string') throw new Error(`${where}.method: expected a string`);
  if (typeof url !== 'string') throw new Error(`${where}.url: expected a string`);
  if (!Array.isArray(headers) || !headers.every((h) => isObject(h) && typeof h.name === 'string' && typeof h.value === 'string')) {
    throw new Error(`${where}.headers: expected a list of {name, value}`);
  }
  const parsedHeaders = headersOf(headers as HarHeader[]);
  delete parsedHeaders['content-encoding'];
  let body: Buffer | undefined;
  if (postData !== undefined) {
    if (!isObject(postData)) throw new Error(`${where}.postData: expected an object`);
    const text = postData.text;
    if (text !== undefined && typeof text !== 'string') throw new Error(`${where}.postData.text: expected a string`);
    if (typeof text === 'string') body = Buffer.from(text, postData.encoding === 'base64' ? 'base64' : 'utf8');
    // Many HAR writers keep the body's type only here, not among the headers.
    if (typeof postData.mimeType === 'string' && postData.mimeType && parsedHeaders['content-type'] === undefined) {
      parsedHeaders['content-type'] = postData.mimeType;
    }
    else if (Array.isArray(postData.params)) {
      body = Buffer.from(
        (postData.params as { name: string; value?: string }[])
          .map((p) => `${encodeURIComponent(p.name)}=${encodeURIComponent(p.value ?? '')}`)
          .join('&'),
      );
    }
  }
  return { method, url, headers: parsedHeaders, body, response: responseOf(entry.response), leakscope: leakscopeOf(entry._leakscope) };
}

function isHeaderList(v: unknown): v is HarHeader[] {
  return Array.isArray(v) && v.every((h) => isObject(h) && typeof h.name === 'string' && typeof h.value === 'string');
}

/** The response as far as it is well formed; scanning never depends on it, so nothing here is an error. */
function responseOf(response: unknown): HarRequestEntry['response'] {
  if (!isObject(response)) return { headers: {} };
  const content = isObject(response.content) ? response.content : {};
  const text = typeof content.text === 'string' ? content.text : undefined;
  return {
    status: typeof response.status === 'number' && response.status > 0 ? response.status : undefined,
    headers: isHeaderList(response.headers) ? headersOf(response.headers) : {},
    body: text === undefined ? undefined : { text, size: text.length, ...(content.encoding === 'base64' ? { encoding: 'base64' as const } : {}) },
  };
}

function leakscopeOf(extra: unknown): HarRequestEntry['leakscope'] {
  if (!isObject(extra)) return {};
  const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return {
    device: text(extra.device),
    client: text(extra.client),
    destination: isObject(extra.destination) ? (extra.destination as Destination) : undefined,
    marked: extra.marked === true,
  };
}

/** Parses HAR text; throws an Error saying which field is wrong. */
export function parseHar(text: string): HarRequestEntry[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new Error(`not valid JSON (${(err as Error).message})`);
  }
  if (!isObject(data) || !isObject(data.log)) throw new Error('not a HAR file: no "log" object');
  if (!Array.isArray(data.log.entries)) throw new Error('not a HAR file: log.entries is not a list');
  return data.log.entries.map(requestOf);
}
