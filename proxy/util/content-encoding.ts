// Undo HTTP Content-Encoding (gzip, deflate, br) with a bound on the output, so a
// zip bomb from a hostile client or server costs at most `limit` bytes of memory.
import zlib from 'node:zlib';

export interface Decoded {
  data: Buffer;
  /** the encodings undone, comma-separated in the order they were applied (e.g. "gzip") */
  decoded?: string;
  /** the decoded output was cut at `limit` bytes */
  truncated: boolean;
}

type Encoding = 'gzip' | 'deflate' | 'br';

const ALIASES: Record<string, Encoding> = { gzip: 'gzip', 'x-gzip': 'gzip', deflate: 'deflate', br: 'br' };

export function contentEncodings(header: string | string[] | undefined): string[] {
  const value = Array.isArray(header) ? header.join(',') : (header ?? '');
  return value
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s && s !== 'identity');
}

function decoderFor(enc: Encoding, data: Buffer): zlib.Gunzip | zlib.Inflate | zlib.InflateRaw | zlib.BrotliDecompress {
  const flush = { finishFlush: zlib.constants.Z_SYNC_FLUSH };
  if (enc === 'br') return zlib.createBrotliDecompress();
  if (enc === 'gzip') return zlib.createGunzip(flush);
  // "deflate" is zlib-wrapped by the RFC, raw by many clients: the zlib header tells which.
  const zlibWrapped = data.length >= 2 && (data[0] & 0x0f) === 8 && ((data[0] << 8) | data[1]) % 31 === 0;
  return zlibWrapped ? zlib.createInflate(flush) : zlib.createInflateRaw(flush);
}

/** Inflates `data` keeping at most `limit` bytes; rejects on corrupt input with nothing decoded. */
export function inflateBounded(data: Buffer, enc: Encoding, limit: number): Promise<{ data: Buffer; truncated: boolean }> {
  return new Promise((resolve, reject) => {
    const stream = decoderFor(enc, data);
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (truncated: boolean) => {
      if (done) return;
      done = true;
      stream.destroy();
      resolve({ data: Buffer.concat(chunks).subarray(0, limit), truncated });
    };
    stream.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size > limit) finish(true);
    });
    stream.on('end', () => finish(false));
    stream.on('error', (err) => {
      if (done) return;
      // A body cut by our own capture cap ends mid-stream: keep what inflated.
      if (size > 0) finish(true);
      else {
        done = true;
        reject(err);
      }
    });
    stream.end(data);
  });
}

/** Decodes `data` per the Content-Encoding header; unknown or corrupt encodings leave the bytes as they were. */
export async function decodeContentEncoding(
  data: Buffer,
  header: string | string[] | undefined,
  limit: number,
): Promise<Decoded> {
  const encodings = contentEncodings(header);
  if (encodings.length === 0 || data.length === 0) return { data, truncated: false };
  let out = data;
  let truncated = false;
  // Encodings are listed in the order applied, so undo them from the last.
  for (const name of [...encodings].reverse()) {
    const enc = ALIASES[name];
    if (!enc) return { data, truncated: false };
    try {
      const r = await inflateBounded(out, enc, limit);
      out = r.data;
      truncated ||= r.truncated;
    } catch {
      return { data, truncated: false };
    }
  }
  return { data: out, decoded: encodings.map((e) => ALIASES[e]).join(','), truncated };
}
