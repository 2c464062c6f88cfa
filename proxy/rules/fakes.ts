// Same-format stand-ins for identifiers, so a redacted request still parses and passes the server's format
// checks (Luhn digits, a valid phone number of the same country, a MAC of the same vendor). A fake is fixed
// per value for the life of the process: the server keeps seeing one consistent (fake) device.
import { createHmac, randomBytes } from 'node:crypto';
import type { IdentifierType } from '../../shared/types';
import { parsePhone } from '../detect/known/normal-forms';
import { luhnCheckDigit } from '../detect/patterns/validators';

const SECRET = randomBytes(32);
const ATTEMPTS = 40;

/** Pseudo-random bytes fixed by `seed` (HMAC in counter mode), as many as asked. */
function bytesFor(seed: string, count: number): Buffer {
  const blocks: Buffer[] = [];
  for (let i = 0; blocks.length * 32 < count; i++) blocks.push(createHmac('sha256', SECRET).update(`${seed}\u0000${i}`).digest());
  return Buffer.concat(blocks);
}

/**
 * Each letter and digit replaced by another of its own kind (digit, hex digit, letter; case kept), past the
 * first `keep` of them; separators stay where they were.
 */
function scramble(text: string, seed: string, keep = 0): string {
  const bytes = bytesFor(seed, text.length);
  const hexOnly = /^[^g-zG-Z]*$/.test(text);
  let seen = 0;
  return [...text]
    .map((c, i) => {
      const digit = c >= '0' && c <= '9';
      const letter = /[a-zA-Z]/.test(c);
      if ((!digit && !letter) || seen++ < keep) return c;
      const b = bytes[i];
      if (digit) return String(b % 10);
      const pick = hexOnly ? (b % 16).toString(16) : String.fromCharCode(97 + (b % 26));
      if (hexOnly && b % 16 < 10) return pick; // a hex digit may become a decimal one, as in real hex
      return c === c.toUpperCase() ? pick.toUpperCase() : pick;
    })
    .join('');
}

/** Rewrites the last digit so the digits pass Luhn, as IMEIs and ICCIDs must. */
function withLuhn(text: string): string {
  const digits = text.replace(/\D/g, '');
  const last = text.search(/\d(?=\D*$)/);
  return text.slice(0, last) + luhnCheckDigit(digits.slice(0, -1)) + text.slice(last + 1);
}

function luhnFake(value: string, seed: string, keep: number, luhnLengths: number[]): string {
  const fake = scramble(value, seed, keep);
  return luhnLengths.includes(fake.replace(/\D/g, '').length) ? withLuhn(fake) : fake;
}

/** Keeps the country code and the first three digits of the number, so the fake is a valid number of the same kind. */
function fakePhone(value: string, seed: string): string {
  const parsed = parsePhone(value);
  const trimmed = value.trim();
  const prefix = trimmed.startsWith('+') ? 0 : trimmed.startsWith('00') ? 2 : -1;
  const keep = (prefix < 0 ? 0 : prefix + (parsed?.countryCallingCode.length ?? 0)) + 3;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const fake = scramble(value, `${seed}\u0000${attempt}`, keep);
    const reparsed = parsePhone(fake);
    if (!parsed || (reparsed?.isValid() && reparsed.country === parsed.country)) return fake;
  }
  // Numbering plans that reject all our tries: change only the subscriber's last four digits.
  return scramble(value, seed, value.replace(/\D/g, '').length - 4);
}

function fakeEmail(value: string, seed: string): string {
  const at = value.lastIndexOf('@');
  return at < 0 ? scramble(value, seed) : scramble(value.slice(0, at), seed) + value.slice(at);
}

function fakeLocation(value: string, seed: string): string {
  // Keep the integer degrees (the region), scramble the decimals: same shape, a different spot.
  return value.replace(/\.(\d+)/g, (_, decimals: string, at: number) => `.${scramble(decimals, `${seed}\u0000${at}`)}`);
}

const FAKERS: Record<IdentifierType, (value: string, seed: string) => string> = {
  imei: (v, s) => luhnFake(v, s, 8, [15]), // the TAC (model) stays, the serial goes
  meid: (v, s) => scramble(v, s, 2),
  imsi: (v, s) => scramble(v, s, 5), // MCC+MNC: the operator stays, the subscriber goes
  iccid: (v, s) => luhnFake(v, s, 7, [19, 20]),
  phone_number: fakePhone,
  android_id: (v, s) => scramble(v, s),
  advertising_id: (v, s) => scramble(v, s),
  mac_address: (v, s) => scramble(v, s, 6), // the OUI (vendor) stays
  serial_number: (v, s) => scramble(v, s),
  email: fakeEmail,
  contact: (v, s) => (v.includes('@') ? fakeEmail(v, s) : fakePhone(v, s)),
  sms: (v, s) => scramble(v, s),
  location: fakeLocation,
  wifi: (v, s) => scramble(v, s, /^[0-9a-f]{2}[:-]/i.test(v) ? 6 : 0), // a BSSID's OUI stays
  // a list is no one value to replace: the redaction's own re-scan still finds it, so the request is blocked
  installed_apps: (v, s) => scramble(v, s),
};

/** A fake of the same format as `value`, never equal to it, the same one each time in this process. */
export function fakeFor(type: IdentifierType, value: string): string {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const fake = FAKERS[type](value, `${type}\u0000${value}\u0000${attempt}`);
    if (fake !== value) return fake;
  }
  return FAKERS[type](value, `${type}\u0000${value}`);
}
