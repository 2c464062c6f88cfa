// The searchable text of a flow: what the full-text index holds and what `scan --filter` searches in memory, so a
// bare word means the same in both. Bodies are the stored, content-decoded ones; a binary body is read as UTF-8
// so the strings inside it (protobuf fields, say) can be found.
import type { Body, Flow, Headers } from '../../shared/types';

export interface FlowText {
  url: string;
  reqHeaders: string;
  resHeaders: string;
  reqBody: string;
  resBody: string;
}

function headerText(headers: Headers | undefined): string {
  const lines: string[] = [];
  for (const [name, v] of Object.entries(headers ?? {})) for (const value of Array.isArray(v) ? v : [v]) lines.push(`${name}: ${value}`);
  return lines.join('\n');
}

function bodyText(body: Body | undefined): string {
  if (!body) return '';
  return body.encoding === 'base64' ? Buffer.from(body.text, 'base64').toString('utf8') : body.text;
}

export function flowText(flow: Pick<Flow, 'url' | 'requestHeaders' | 'responseHeaders' | 'requestBody' | 'responseBody'>): FlowText {
  return {
    url: flow.url,
    reqHeaders: headerText(flow.requestHeaders),
    resHeaders: headerText(flow.responseHeaders),
    reqBody: bodyText(flow.requestBody),
    resBody: bodyText(flow.responseBody),
  };
}

/** Which parts of the text each text operator searches; a bare word searches them all. */
export const TEXT_PARTS = {
  text: ['url', 'reqHeaders', 'resHeaders', 'reqBody', 'resBody'],
  u: ['url'],
  h: ['reqHeaders', 'resHeaders'],
  b: ['reqBody', 'resBody'],
  bq: ['reqBody'],
  bs: ['resBody'],
} as const satisfies Record<string, readonly (keyof FlowText)[]>;
