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

/** Inflates with at most `limit` bytes out; small, well-formed blobs synchronously, the rest streamed. */
export async function inflate(data: Buffer, enc: Encoding, limit: number): Promise<Buffer> {
  if (data.length <= SYNC_LIMIT) {
    try {
      return inflateSync(data, enc, limit);
    } catch {
      // too big once inflated, raw deflate, or cut short: the streaming decoder copes with all three
    }
  }
  return (await inflateBounded(data, enc, limit)).data;
}

const ALIASES: Record<string, Encoding> = { gzip: 'gzip', 'x-gzip': 'gzip', deflate: 'deflate', br: 'br' };

/** Undoes Content-Encoding; returns the encodings undone in the order applied (outermost last). */
export async function undoContentEncoding(data: Buffer, header: string | string[] | undefined, limit: number): Promise<{ data: Buffer; chain: string[] }> {
  const names = contentEncodings(header);
  if (names.length === 0 || data.length === 0) return { data, chain: [] };
  if (data.length > SYNC_LIMIT || names.some((n) => !ALIASES[n])) {
    const decoded = await decodeContentEncoding(data, header, limit);
    return { data: decoded.data, chain: decoded.decoded ? decoded.decoded.split(',') : [] };
  }
  let out = data;
  try {
    for (const name of [...names].reverse()) out = await inflate(out, ALIASES[name], limit);
  } catch {
    return { data, chain: [] };
  }
  return { data: out, chain: names.map((n) => ALIASES[n]) };
}
