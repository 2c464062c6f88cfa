// Rewrites a request with every form of the redacted identifiers replaced by its fake: in the URL, the header
// values and the body (Content-Encoding undone first and redone after, Content-Length fixed up).
import zlib from 'node:zlib';
import type { Finding, Headers } from '../../shared/types';
import { HOP_BY_HOP, type CapturedRequest } from '../capture/forward';
import { DECODED_BYTES, REQUEST_CAPTURE_BYTES } from '../capture/limits';
import { contentEncodings, decodeContentEncoding } from '../util/content-encoding';
import { replacementsFor, type Replacement } from './replacements';

export interface RedactedRequest {
  path: string;
  headers: Headers;
  /** the body as it goes on the wire (re-encoded) */
  body: Buffer;
}

/** Why a request cannot be redacted safely (it is then blocked instead). */
export class CannotRedact extends Error {}

// The forwarder sends a rewrite's headers as given: connection-level ones must not be passed on, and the
// body's framing changes with its length.
const notForwarded = (name: string) => HOP_BY_HOP.has(name) || name === 'transfer-encoding' || name === 'content-length';

const ENCODERS: Record<string, (data: Buffer) => Buffer> = {
  gzip: (d) => zlib.gzipSync(d),
  'x-gzip': (d) => zlib.gzipSync(d),
  deflate: (d) => zlib.deflateSync(d),
  br: (d) => zlib.brotliCompressSync(d),
};

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// Text here is a byte string (latin1, one char per byte) so that bodies, URLs and header values, whatever
// their charset, come back byte for byte; forms are matched by their UTF-8 bytes.
const asBytes = (s: string) => Buffer.from(s, 'utf8').toString('latin1');

function alternative(r: Replacement): string {
  const from = escapeRegExp(asBytes(r.from));
  if (r.plain && /^\d+$/.test(r.from)) return `(?<!\\d)${from}(?!\\d)`;
  if (r.plain && /^[0-9a-f]+$/i.test(r.from)) return `(?<![0-9a-fA-F])${from}(?![0-9a-fA-F])`;
  return from;
}

/** One pass over the text, so a fake just written is never itself rewritten. */
export function replacer(replacements: readonly Replacement[]): (text: string) => string {
  if (replacements.length === 0) return (text) => text;
  const to = new Map(replacements.map((r) => [asBytes(r.from), asBytes(r.to)]));
  const pattern = new RegExp(replacements.map(alternative).join('|'), 'g');
  return (text) => text.replace(pattern, (m) => to.get(m) ?? m);
}

async function redactBody(body: Buffer, headers: Headers, replace: (text: string) => string): Promise<Buffer> {
  if (body.length === 0) return body;
  const encodings = contentEncodings(headers['content-encoding']);
  const decoded = await decodeContentEncoding(body, headers['content-encoding'], DECODED_BYTES);
  if (decoded.truncated) throw new CannotRedact(`the body inflates past ${DECODED_BYTES >> 20} MiB`);
  const text = decoded.data.toString('latin1');
  const replaced = replace(text);
  if (replaced === text) return body;
  let out: Buffer = Buffer.from(replaced, 'latin1');
  if (decoded.decoded) for (const name of encodings) out = ENCODERS[name](out);
  return out;
}

export async function redactRequest(request: CapturedRequest, findings: readonly Finding[]): Promise<RedactedRequest> {
  if (request.bodyTruncated) throw new CannotRedact(`the body is larger than the ${REQUEST_CAPTURE_BYTES >> 20} MiB leakscope holds back`);
  const replace = replacer(replacementsFor(findings));
  const headers: Headers = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (notForwarded(name.toLowerCase())) continue;
    headers[name] = Array.isArray(value) ? value.map(replace) : replace(value);
  }
  const body = await redactBody(request.body, request.headers, replace);
  if (body.length > 0 || request.headers['content-length'] !== undefined) headers['content-length'] = String(body.length);
  return { path: replace(request.path), headers, body };
}
