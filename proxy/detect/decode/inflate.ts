// Inflating small blobs synchronously: the async, bounded decoder in util/content-encoding costs a
// thread-pool round trip per call, which dominates scanning of ordinary (small) requests.
import zlib from 'node:zlib';
import { contentEncodings, decodeContentEncoding, inflateBounded } from '../../util/content-encoding';

type Encoding = 'gzip' | 'deflate' | 'br';

/** Above this many compressed bytes the streaming decoder's bound matters more than the round trip. */
const SYNC_LIMIT = 64 * 1024;

function inflateSync(data: Buffer, enc: Encoding, limit: number): Buffer {
  const options = { maxOutputLength: limit };
  if (enc === 'br') return zlib.brotliDecompressSync(data, options);
  if (enc === 'gzip') return zlib.gunzipSync(data, options);
  return zlib.inflateSync(data, options);
}

/**
 * Inflates with at most `limit` bytes out: small, well-formed blobs synchronously (a Buffer), the rest
 * streamed (a Promise). Callers stay synchronous on the common path.
 */
export function inflate(data: Buffer, enc: Encoding, limit: number): Buffer | Promise<Buffer> {
  if (data.length <= SYNC_LIMIT) {
    try {
      return inflateSync(data, enc, limit);
    } catch {
      // too big once inflated, raw deflate, or cut short: the streaming decoder copes with all three
    }
  }
  return inflateBounded(data, enc, limit).then((r) => r.data);
}

const ALIASES: Record<string, Encoding> = { gzip: 'gzip', 'x-gzip': 'gzip', deflate: 'deflate', br: 'br' };

export interface Undone {
  data: Buffer;
  chain: string[];
}

async function undoSlowly(data: Buffer, header: string | string[] | undefined, limit: number): Promise<Undone> {
  const decoded = await decodeContentEncoding(data, header, limit);
  return { data: decoded.data, chain: decoded.decoded ? decoded.decoded.split(',') : [] };
}

/**
 * Undoes Content-Encoding; returns the encodings undone in the order applied (outermost last).
 * Synchronous (no Promise) for small bodies that inflate cleanly.
 */
export function undoContentEncoding(data: Buffer, header: string | string[] | undefined, limit: number): Undone | Promise<Undone> {
  if (header === undefined || data.length === 0) return { data, chain: [] };
  const names = contentEncodings(header);
  if (names.length === 0) return { data, chain: [] };
  if (data.length > SYNC_LIMIT || names.some((n) => !ALIASES[n])) return undoSlowly(data, header, limit);
  let out = data;
  for (let i = names.length - 1; i >= 0; i--) {
    const step = inflate(out, ALIASES[names[i]], limit);
    if (!Buffer.isBuffer(step)) return undoRest(data, step, names, i, limit);
    out = step;
  }
  return { data: out, chain: names.map((n) => ALIASES[n]) };
}

/** The same loop once one layer had to go to the streaming decoder. */
async function undoRest(original: Buffer, pending: Promise<Buffer>, names: string[], i: number, limit: number): Promise<Undone> {
  try {
    let out = await pending;
    for (let j = i - 1; j >= 0; j--) out = await inflate(out, ALIASES[names[j]], limit);
    return { data: out, chain: names.map((n) => ALIASES[n]) };
  } catch {
    return { data: original, chain: [] };
  }
}
