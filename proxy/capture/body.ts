// Turns captured body bytes into the stored form: Content-Encoding undone, text as text, binary as base64.
import type { Body, Headers } from '../../shared/types';
import { DECODED_BYTES } from './limits';
import { decodeContentEncoding } from '../util/content-encoding';

export function headerValue(headers: Headers | undefined, name: string): string | undefined {
  const v = headers?.[name.toLowerCase()];
  return Array.isArray(v) ? v.join(', ') : v;
}

/** True when the bytes read as UTF-8 text a person can look at, whatever the Content-Type claims. */
export function looksLikeText(data: Buffer): boolean {
  const text = data.toString('utf8');
  if (text.includes('\uFFFD')) return false;
  // Control characters other than tab/newline/CR mark binary payloads (protobuf and the like).
  // eslint-disable-next-line no-control-regex
  return !/[\x00-\x08\x0E-\x1F]/.test(text.slice(0, 4096));
}

/**
 * @param raw the captured bytes (at most the capture cap)
 * @param size the full size on the wire
 * @param truncated whether `raw` stops short of the full body
 */
export async function storedBody(raw: Buffer, size: number, headers: Headers | undefined, truncated: boolean): Promise<Body | undefined> {
  if (size === 0 && raw.length === 0) return undefined;
  const decoded = await decodeContentEncoding(raw, headerValue(headers, 'content-encoding'), DECODED_BYTES);
  const data = decoded.data;
  const body: Body = looksLikeText(data)
    ? { text: data.toString('utf8'), size }
    : { text: data.toString('base64'), encoding: 'base64', size };
  if (truncated || decoded.truncated) body.truncated = true;
  if (decoded.decoded) body.decoded = decoded.decoded;
  return body;
}

/** The bytes of a stored body (decoded form). */
export function bodyBytes(body: Body | undefined): Buffer {
  if (!body) return Buffer.alloc(0);
  return Buffer.from(body.text, body.encoding === 'base64' ? 'base64' : 'utf8');
}
