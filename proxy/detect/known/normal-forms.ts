// How each kind of identifier can be written in plain text: the normal forms of one known value.
import parsePhoneNumber, { type CountryCode } from 'libphonenumber-js/max';
import type { ValueField } from '../../../shared/identifiers';
import { luhnCheckDigit } from '../patterns/validators';

/** Countries tried for numbers written without a country code, in order. */
const FALLBACK_COUNTRIES: CountryCode[] = ['US', 'CN', 'GB', 'IN', 'DE', 'FR', 'BR', 'RU', 'JP'];

const digits = (s: string) => s.replace(/\D/g, '');
const hex = (s: string) => s.replace(/[^0-9a-fA-F]/g, '').toLowerCase();
const cases = (s: string) => [s, s.toLowerCase(), s.toUpperCase()];

export function parsePhone(raw: string, countries: readonly CountryCode[] = FALLBACK_COUNTRIES) {
  const international = raw.trim().startsWith('+') || raw.trim().startsWith('00');
  if (international) return parsePhoneNumber(raw.trim().replace(/^00/, '+'));
  for (const country of countries) {
    const parsed = parsePhoneNumber(raw, country);
    if (parsed?.isValid()) return parsed;
  }
  return undefined;
}

function phoneForms(raw: string): string[] {
  const parsed = parsePhone(raw);
  if (!parsed) return [raw, digits(raw)];
  const e164 = parsed.number;
  const international = parsed.formatInternational().split(' ');
  const national = parsed.formatNational().replace(/[()]/g, '').split(/[\s-]+/);
  const joined = (groups: string[]) => [' ', '-', '.', ''].map((sep) => groups.join(sep));
  return [
    raw,
    e164,
    e164.slice(1),
    `00${e164.slice(1)}`,
    parsed.nationalNumber,
    parsed.formatNational(),
    ...joined(international),
    ...joined(national),
  ];
}

function imeiForms(raw: string): string[] {
  const d = digits(raw);
  if (d.length === 15) return [d, d.slice(0, 14)];
  if (d.length === 14) return [d, d + luhnCheckDigit(d)];
  return [raw.trim()];
}

function macForms(raw: string): string[] {
  const h = hex(raw);
  if (h.length !== 12) return [raw.trim()];
  const pairs = h.match(/../g) ?? [];
  return [':', '-', ''].flatMap((sep) => cases(pairs.join(sep)));
}

function uuidForms(raw: string): string[] {
  const h = hex(raw);
  if (h.length !== 32) return cases(raw.trim());
  const dashed = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  return [...cases(dashed), ...cases(h)];
}

/**
 * An Android ID is a random 64-bit number written as hex (Long.toHexString, so leading zeros may be
 * missing); SDKs that send it as a number (protobuf int64/uint64/fixed64, JSON) write its decimal digits,
 * unsigned or as a signed 64-bit integer. Both always listed (equal below 2^63), so a fake's forms pair up
 * with the original's position by position.
 */
function androidIdForms(raw: string): string[] {
  const id = raw.trim();
  if (!/^[0-9a-fA-F]{1,16}$/.test(id)) return cases(id);
  const unsigned = BigInt(`0x${id}`);
  const signed = unsigned >= 1n << 63n ? unsigned - (1n << 64n) : unsigned;
  return [...cases(id), unsigned.toString(), signed.toString()];
}

const MAC_LIKE = /^[0-9a-fA-F]{2}(?:[:-]?[0-9a-fA-F]{2}){5}$/;

/** A BSSID is written as any MAC is; an SSID (a network's name) as the tester typed it, case and all. */
function wifiForms(raw: string): string[] {
  return MAC_LIKE.test(raw.trim()) ? macForms(raw) : [raw];
}

/** JSON-escaped forms: as a serializer writes the text inside a string, also with non-ASCII as \uXXXX. */
function smsForms(raw: string): string[] {
  const escaped = JSON.stringify(raw).slice(1, -1);
  const asciiEscaped = escaped.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return [raw, escaped, asciiEscaped];
}

export const NORMAL_FORMS: Record<ValueField, (raw: string) => string[]> = {
  imei: imeiForms,
  meid: (raw) => cases(hex(raw)),
  imsi: (raw) => [digits(raw)],
  iccid: (raw) => {
    const d = digits(raw);
    return d.length === 20 ? [d, d.slice(0, 19)] : [d];
  },
  phone_number: phoneForms,
  android_id: androidIdForms,
  advertising_id: uuidForms,
  mac_address: macForms,
  serial_number: (raw) => cases(raw.trim()),
  // upper-cased too: SDKs hash `email.toUpperCase()` as often as the lower-cased address
  email: (raw) => [raw.trim(), raw.trim().toLowerCase(), raw.trim().toUpperCase()],
  sms: smsForms,
  wifi: wifiForms,
};

/** Distinct forms, in order, without the ones too short to mean anything. */
export function normalForms(type: keyof typeof NORMAL_FORMS, raw: string, minLength: number): string[] {
  return [...new Set(NORMAL_FORMS[type](raw))].filter((f) => f.length >= minLength);
}
