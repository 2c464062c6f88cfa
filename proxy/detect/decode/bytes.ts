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
  const text = utf8Text(buf);
  return text === undefined || binaryText(text, buf.length) ? undefined : text;
}

/** `buf` decoded, when it is valid UTF-8 (control characters or not); otherwise undefined. */
export function utf8Text(buf: Buffer): string | undefined {
  // Native scans (ASCII, UTF-8 validity); the validity check does not throw: binary blobs fail it often.
  const ascii = isAscii(buf);
  if (!ascii && !isUtf8(buf)) return undefined;
  // Like TextDecoder, drop a leading byte-order mark.
  const bom = !ascii && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
  return ascii ? buf.toString('latin1') : buf.toString('utf8', bom);
}

/** Text of `byteLength` UTF-8 bytes with too many control characters to be taken for text. */
export function binaryText(text: string, byteLength: number): boolean {
  // A native scan for any control first; the loop only for the rare text that holds some. Controls are single
  // bytes in UTF-8: counting them in the text counts them in the bytes.
  return CONTROL.test(text) && controls(text) > byteLength / 50;
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

/** Form-style percent decoding that never throws (malformed UTF-8 becomes U+FFFD). */
export function percentDecode(s: string, shape = textShape(s)): string | undefined {
  if ((shape & SHAPE_PERCENT) === 0) return undefined;
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

/** Character classes, by bit: what each of the encodings below is written with. */
const LOWER_HEX = 1;
const UPPER_HEX = 2;
const STANDARD = 4;
const URL_SAFE = 8;
const HEX_OR_DASH = 16;
const CLASSES = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  const digit = /[0-9]/.test(ch);
  const alnum = /[0-9A-Za-z]/.test(ch);
  CLASSES[c] =
    (digit || /[a-f]/.test(ch) ? LOWER_HEX : 0) |
    (digit || /[A-F]/.test(ch) ? UPPER_HEX : 0) |
    (alnum || ch === '+' || ch === '/' ? STANDARD : 0) |
    (alnum || ch === '-' || ch === '_' ? URL_SAFE : 0) |
    (/[0-9A-Fa-f-]/.test(ch) ? HEX_OR_DASH : 0);
}
/** Enough base64 for 12 bytes: the shortest encoded identifier worth a look. */
const MIN_RUN_CHARS = 16;

// What is asked of every plain-text value (does it hold a percent escape, is it hex, base64, a UUID), answered
// in one pass over it with no regex.

/** Holds a `%XX` escape. */
export const SHAPE_PERCENT = 1;
/** Hex digits in one case throughout (as encoders write it). */
const SHAPE_HEX = 2;
/** Standard or URL-safe base64: one alphabet throughout, at most two `=` of padding. */
const SHAPE_BASE64 = 4;
/** `8-4-4-4-12` hex digits: valid URL-safe base64, and it decodes to noise; telemetry holds one per event. */
const SHAPE_UUID = 8;

const PERCENT = /%[0-9A-Fa-f]{2}/;

/** The SHAPE_ flags of `s`. */
export function textShape(s: string): number {
  // a native scan first: most values hold no `%`
  const shape = s.includes('%') && PERCENT.test(s) ? SHAPE_PERCENT : 0;
  const n = s.length;
  // Base64 of 6 bytes or more, hex of 6 bytes: neither fits fewer than 8 characters or 4k + 1 of them (a
  // 13-digit millisecond clock, in every telemetry event).
  if (n < 8 || n % 4 === 1) return shape;
  return shape | encodingShape(s);
}

/** SHAPE_HEX, SHAPE_BASE64 and SHAPE_UUID of `s`. */
function encodingShape(s: string): number {
  const n = s.length;
  let end = n;
  if (end > 0 && s.charCodeAt(end - 1) === 0x3d) end--; // =
  if (end > 0 && s.charCodeAt(end - 1) === 0x3d) end--;
  let all = 0xff;
  let dashes = 0;
  for (let i = 0; i < end; i++) {
    const c = s.charCodeAt(i);
    all &= c < 128 ? CLASSES[c] : 0;
    // no encoding of the whole is possible any more
    if (all === 0) return 0;
    if (c === 0x2d) dashes++; // -
  }
  return end === 0 ? 0 : shapeOf(s, 0, n, n - end, all, dashes);
}

/**
 * The SHAPE_ flags (but SHAPE_PERCENT) of `s` from `start` to `end`, `padding` of it `=`, from `all`, the
 * classes its other characters share, and the dashes among them.
 */
function shapeOf(s: string, start: number, end: number, padding: number, all: number, dashes: number): number {
  let shape = 0;
  if (padding === 0 && (all & (LOWER_HEX | UPPER_HEX)) !== 0) shape |= SHAPE_HEX;
  if ((all & (STANDARD | URL_SAFE)) !== 0) shape |= SHAPE_BASE64;
  if (end - start === 36 && padding === 0 && (all & HEX_OR_DASH) !== 0 && dashes === 4 && s.charCodeAt(start + 8) === 0x2d && s.charCodeAt(start + 13) === 0x2d && s.charCodeAt(start + 18) === 0x2d && s.charCodeAt(start + 23) === 0x2d) shape |= SHAPE_UUID;
  return shape;
}

/** What the last `nextEncodedRun` found: read before the next call. */
export const foundRun = {
  /** the run's SHAPE_ flags, as `textShape` would say them */
  shape: 0,
  /** where the search for the next run resumes */
  resume: 0,
};

/**
 * The next run of base64 characters (hex ones among them) of at least MIN_RUN_CHARS, with its padding, inside
 * longer text, from `from` on, that is hex or base64 text worth decoding (`hexText`, `base64Text`); its shape
 * and where to look next in `foundRun`. None when the whole text is one run (decoded as a whole already).
 * No regex: this runs on every plain-text value.
 */
export function nextEncodedRun(text: string, from: number): string | undefined {
  const n = text.length;
  if (n < MIN_RUN_CHARS + 2) return undefined;
  // a UUID, in every telemetry event: one run of base64 characters, whole
  if (n === 36 && text.charCodeAt(8) === 0x2d && text.charCodeAt(13) === 0x2d) return undefined;
  return text.includes('=', from) ? nextPaddedRun(text, from) : nextUnpaddedRun(text, from);
}

/** Base64 (either alphabet) characters, `=` aside. */
const isBase64Char = (c: number) => c < 128 && (CLASSES[c] & (STANDARD | URL_SAFE)) !== 0;

/**
 * `nextEncodedRun` in text with no `=` from `from` on, where runs are simply the stretches of base64
 * characters. One long enough covers the character MIN_RUN_CHARS - 1 past its start, so that one is looked at
 * first, and back from it only as far as the first character that is not base64: in words and sentences, most
 * characters are never looked at.
 */
function nextUnpaddedRun(text: string, from: number): string | undefined {
  const n = text.length;
  let start = from;
  while (start + MIN_RUN_CHARS <= n) {
    const last = start + MIN_RUN_CHARS - 1;
    if (!isBase64Char(text.charCodeAt(last))) {
      start = last + 1;
      continue;
    }
    let k = last - 1;
    while (k >= start && isBase64Char(text.charCodeAt(k))) k--;
    if (k >= start) {
      start = k + 1;
      continue;
    }
    let end = last + 1;
    while (end < n && isBase64Char(text.charCodeAt(end))) end++;
    const run = worthDecoding(text, start, end, 0);
    if (run !== undefined) return run;
    start = end + 1;
  }
  return undefined;
}

/** `nextEncodedRun` where padding may end a run: every character is looked at, in order. */
function nextPaddedRun(text: string, from: number): string | undefined {
  const n = text.length;
  let start = from;
  for (let i = from; i <= n; i++) {
    if (i < n && isBase64Char(text.charCodeAt(i))) continue;
    let end = i;
    while (end < n && text.charCodeAt(end) === 0x3d && end - i < 2) end++; // =
    if (end - start >= MIN_RUN_CHARS) {
      const run = worthDecoding(text, start, end, end - i);
      if (run !== undefined) return run;
    }
    // Padding ends a run and the next may begin right after it (`key=VALUE`); otherwise the character at `i`
    // ended it and is no part of the next.
    start = end === i ? i + 1 : end;
    i = start - 1;
  }
  return undefined;
}

/** The run of `text` from `start` to `end` (`padding` of it `=`) if it is inside longer text and worth decoding. */
function worthDecoding(text: string, start: number, end: number, padding: number): string | undefined {
  if (start === 0 && end === text.length) return undefined;
  let all = 0xff;
  let dashes = 0;
  for (let i = start; i < end - padding; i++) {
    const c = text.charCodeAt(i);
    all &= CLASSES[c];
    if (c === 0x2d) dashes++; // -
  }
  const shape = shapeOf(text, start, end, padding, all, dashes);
  const length = end - start;
  if (!hexLength(length, shape) && !base64Length(length, shape)) return undefined;
  foundRun.shape = shape;
  // not end + 1: after padding, the character at `end` may begin the next run
  foundRun.resume = end;
  return text.slice(start, end);
}

/** Standard or URL-safe base64 text, a UUID excepted: worth decoding when it holds 6 bytes or more. */
export function base64Text(s: string, shape = textShape(s)): boolean {
  return base64Length(s.length, shape);
}

function base64Length(length: number, shape: number): boolean {
  return length >= 8 && length % 4 !== 1 && (shape & (SHAPE_BASE64 | SHAPE_UUID)) === SHAPE_BASE64;
}

/** Hex text of at least 6 bytes (one case throughout, as encoders write it). */
export function hexText(s: string, shape = textShape(s)): boolean {
  return hexLength(s.length, shape);
}

function hexLength(length: number, shape: number): boolean {
  return length >= 12 && length % 2 === 0 && (shape & SHAPE_HEX) !== 0;
}

// Telling a decoded blob that yields nothing from one worth scanning, without making it a Buffer: most
// UUID-, word- and hash-like values are valid base64 or hex and decode to noise.

/** Reused for every decode check: read only within one synchronous call. */
let scratchBytes = new Uint8Array(256);

const SEXTET = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) SEXTET['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.charCodeAt(i)] = i;
SEXTET[0x2d] = 62; // - (URL-safe)
SEXTET[0x5f] = 63; // _

/** What the last `decode…ToScratch` wrote. */
export function scratch(): Uint8Array {
  return scratchBytes;
}

function room(n: number): Uint8Array {
  if (scratchBytes.length < n) scratchBytes = new Uint8Array(Math.max(n, scratchBytes.length * 2));
  return scratchBytes;
}

/** Decodes text that passed `base64Text` as `Buffer.from(s, 'base64')` does, into `scratch`; its length. */
export function decodeBase64ToScratch(s: string): number {
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 0x3d) end--; // =
  const n = Math.floor((end * 3) / 4);
  const out = room(n);
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < end && o < n; i++) {
    acc = ((acc << 6) | SEXTET[s.charCodeAt(i)]) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >>> bits) & 0xff;
    }
  }
  return n;
}

const nibble = (c: number) => (c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x57);

/** Decodes text that passed `hexText` into `scratch`; its length. */
export function decodeHexToScratch(s: string): number {
  const n = s.length >> 1;
  const out = room(n);
  for (let i = 0; i < n; i++) out[i] = (nibble(s.charCodeAt(2 * i)) << 4) | nibble(s.charCodeAt(2 * i + 1));
  return n;
}

/** Strict UTF-8 (no overlong forms, surrogates or code points past U+10FFFF), as `isUtf8` checks it. */
export function validUtf8(b: Uint8Array, n: number): boolean {
  let i = 0;
  while (i < n) {
    const c = b[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    let more: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) more = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      more = 2;
      if (c === 0xe0) lo = 0xa0;
      else if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      more = 3;
      if (c === 0xf0) lo = 0x90;
      else if (c === 0xf4) hi = 0x8f;
    } else return false;
    if (i + more >= n) return false; // cut short
    const second = b[i + 1];
    if (second < lo || second > hi) return false;
    for (let k = 2; k <= more; k++) if ((b[i + k] & 0xc0) !== 0x80) return false;
    i += more + 1;
  }
  return true;
}

/**
 * The first `n` bytes of `b` yield no segment when scanned as a blob (`expandBytes`): no compression magic,
 * not text `asText` takes (not UTF-8, or too many control characters), no printable run of MIN_RUN.
 * False when unsure: the blob is then scanned.
 */
export function barren(b: Uint8Array, n: number): boolean {
  if (n >= 3 && ((b[0] === 0x1f && b[1] === 0x8b) || (b[0] === 0x78 && (b[1] === 0x01 || b[1] === 0x5e || b[1] === 0x9c || b[1] === 0xda)))) return false;
  let controls = 0;
  let run = 0;
  let ascii = true;
  for (let i = 0; i < n; i++) {
    const c = b[i];
    if (c >= 0x20 && c < 0x7f) {
      if (++run >= MIN_RUN) return false;
      continue;
    }
    run = 0;
    if (c >= 0x80) ascii = false;
    else if (c !== 0x09 && c !== 0x0a && c !== 0x0d) controls++;
  }
  // Controls are single bytes in UTF-8 text: past this many, asText refuses the blob whatever else it is.
  if (controls > n / 50) return true;
  return !ascii && !validUtf8(b, n);
}
