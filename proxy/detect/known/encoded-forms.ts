// Each normal form as SDKs ship it: hashed (hex either case, base64), base64, hex, URL-encoded.
import { createHash } from 'node:crypto';

export interface EncodedForm {
  text: string;
  /** encodings applied to the normal form, innermost first */
  chain: string[];
}

const HASHES = ['md5', 'sha1', 'sha256'] as const;

/**
 * Base64 characters fixed by the value alone: the value may sit at the start of a longer blob, where the
 * last partial group and the padding depend on the bytes that follow.
 */
function stableBase64(bytes: Buffer): string {
  const full = Math.floor(bytes.length / 3) * 4 + (bytes.length % 3);
  return bytes.toString('base64').slice(0, full);
}

/**
 * Hex as Java's `Integer.toHexString(b & 0xff)` per byte writes it, without the leading zero of bytes below
 * 0x10: a common bug in hand-rolled MD5 and SHA-1 hashing (seen in an audience-measurement SDK). Listed even
 * when it equals the right hex, so the forms of two values pair up position by position.
 */
function hexWithoutLeadingZeros(bytes: Buffer): string {
  let out = '';
  for (const b of bytes) out += b.toString(16);
  return out;
}

export function encodedForms(form: string): EncodedForm[] {
  const bytes = Buffer.from(form, 'utf8');
  const out: EncodedForm[] = [{ text: form, chain: [] }];
  const percent = encodeURIComponent(form);
  if (percent !== form) {
    out.push({ text: percent, chain: ['urlencoded'] });
    if (percent.includes('%20')) out.push({ text: percent.replace(/%20/g, '+'), chain: ['urlencoded'] });
  }
  out.push({ text: stableBase64(bytes), chain: ['base64'] });
  const hex = bytes.toString('hex');
  out.push({ text: hex, chain: ['hex'] }, { text: hex.toUpperCase(), chain: ['hex'] });
  for (const algorithm of HASHES) {
    const digest = createHash(algorithm).update(bytes).digest();
    const digestHex = digest.toString('hex');
    out.push(
      { text: digestHex, chain: [algorithm, 'hex'] },
      { text: digestHex.toUpperCase(), chain: [algorithm, 'hex'] },
      { text: stableBase64(digest), chain: [algorithm, 'base64'] },
    );
    if (algorithm !== 'sha256') out.push({ text: hexWithoutLeadingZeros(digest), chain: [algorithm, 'hex'] });
  }
  return out;
}
