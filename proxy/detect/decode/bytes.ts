// Byte-level sniffing shared by the decoders: is this text, is this compressed, what printable runs does it hold.
import { isAscii, isUtf8 } from 'node:buffer';

/** C0 controls but tab, LF and CR, and DEL: binary, in text. */
const CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/;

function controls(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f) n++;
  }
  return n;
}

/** Decodes `buf` as UTF-8 when it is valid and nearly free of control characters; otherwise undefined. */
export function asText(buf: Buffer): string | undefined {
  // Native scans first (ASCII, UTF-8 validity, a control character at all); the byte loop only for the rare
  // text that holds some controls. The validity check does not throw: binary blobs fail it often.
  const ascii = isAscii(buf);
  if (!ascii && !isUtf8(buf)) return undefined;
  // Like TextDecoder, drop a leading byte-order mark.
  const bom = !ascii && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
  const text = ascii ? buf.toString('latin1') : buf.toString('utf8', bom);
  // Controls are single bytes in UTF-8: counting them in the text counts them in the bytes.
  if (CONTROL.test(text) && controls(text) > buf.length / 50) return undefined;
  return text;
}

export type Compression = 'gzip' | 'deflate';

/** gzip magic, or a zlib header (what "deflate" means on the wire). */
export function sniffCompression(buf: Buffer): Compression | undefined {
  if (buf.length < 3) return undefined;
  if (buf[0] === 0x1f && buf[1] === 0x8b) return 'gzip';
  if (buf[0] === 0x78 && (buf[1] === 0x01 || buf[1] === 0x5e || buf[1] === 0x9c || buf[1] === 0xda)) return 'deflate';
  return undefined;
}

const MIN_RUN = 6;

/** Printable ASCII runs of a binary blob (protobuf strings, TLV fields), with their offsets. */
export function printableRuns(buf: Buffer): { text: string; offset: number }[] {
  const runs: { text: string; offset: number }[] = [];
  let start = -1;
  for (let i = 0; i <= buf.length; i++) {
    const b = i < buf.length ? buf[i] : 0;
    const printable = b >= 0x20 && b < 0x7f;
    if (printable && start < 0) start = i;
    else if (!printable && start >= 0) {
      if (i - start >= MIN_RUN) runs.push({ text: buf.toString('latin1', start, i), offset: start });
      start = -1;
    }
  }
  return runs;
}

const PERCENT = /%[0-9A-Fa-f]{2}/;

/** Form-style percent decoding that never throws (malformed UTF-8 becomes U+FFFD). */
export function percentDecode(s: string): string | undefined {
  if (!PERCENT.test(s)) return undefined;
  const spaced = s.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    return Buffer.from(
      spaced.replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
      'latin1',
    ).toString('utf8');
  }
}

const HEX = /^(?:[0-9a-f]{2})+$|^(?:[0-9A-F]{2})+$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/;

/** Hex text of at least 6 bytes (one case throughout, as encoders write it). */
export function hexBytes(s: string): Buffer | undefined {
  return s.length >= 12 && HEX.test(s) ? Buffer.from(s, 'hex') : undefined;
}

/** Standard or URL-safe base64 text of at least 6 bytes. */
export function base64Bytes(s: string): Buffer | undefined {
  if (s.length < 8 || s.length % 4 === 1) return undefined;
  if (!BASE64.test(s) && !BASE64URL.test(s)) return undefined;
  const buf = Buffer.from(s, 'base64');
  return buf.length >= 6 ? buf : undefined;
}
