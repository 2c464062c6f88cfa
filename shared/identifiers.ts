// The identifiers file: what the tester knows about the phone(s) under test (CONTRACT.md).
// One zod schema serves the CLI (file on disk) and the dashboard (editor), so both reject the same input.
import { z } from 'zod';
import { parseWith, valueAt, type ParseResult, type Place } from './issues';
import { IDENTIFIER_TYPES, type IdentifierType } from './types';

const strings = z.array(z.string().trim().min(1, 'must not be empty')).default([]);

export const contactSchema = z.object({
  name: z.string().default(''),
  phone: strings,
  email: strings,
});

export const locationSchema = z.object({
  lat: z.number().min(-90).max(90),
  lon: z.number().min(-180).max(180),
});

export const deviceSchema = z.object({
  name: z.string().default(''),
  client: z.string().optional(),
  imei: strings,
  meid: strings,
  imsi: strings,
  iccid: strings,
  phone_number: strings,
  android_id: strings,
  advertising_id: strings,
  mac_address: strings,
  serial_number: strings,
  email: strings,
  contacts: z.array(contactSchema).default([]),
  sms: strings,
  location: z.array(locationSchema).default([]),
  /** Wi-Fi networks the phone sees or joins: SSIDs (names) and BSSIDs (access-point MACs) */
  wifi: strings,
});

export const identifiersSchema = z.object({
  devices: z.array(deviceSchema).default([]),
});

export type Contact = z.infer<typeof contactSchema>;
export type Device = z.infer<typeof deviceSchema>;
export type Identifiers = z.infer<typeof identifiersSchema>;

/**
 * The device fields that are plain lists of values: every identifier type but contacts and locations, which
 * have their own shapes, and installed apps, which are found by their number, not by known values. One list,
 * so a new type is a new field everywhere at once.
 */
export type ValueField = Exclude<IdentifierType, 'contact' | 'location' | 'installed_apps'>;
export const VALUE_FIELDS: readonly ValueField[] = IDENTIFIER_TYPES.filter(
  (t): t is ValueField => t !== 'contact' && t !== 'location' && t !== 'installed_apps',
);

export const EMPTY_IDENTIFIERS: Identifiers = { devices: [] };

/**
 * The entry `leakscope canaries` fills with planted contacts. It is not a phone: what matches its values is
 * credited to the phone that sent it, and the finding keeps `source: "canaries"` to say where the value came from.
 */
export const CANARY_DEVICE = 'canaries';

/** Each list's values in words, for messages (`IMEI 2`, `phone number 1`) and the report. */
export const VALUE_WORDS: Record<ValueField, string> = {
  imei: 'IMEI',
  meid: 'MEID',
  imsi: 'IMSI',
  iccid: 'ICCID',
  phone_number: 'phone number',
  android_id: 'Android ID',
  advertising_id: 'advertising ID',
  mac_address: 'MAC address',
  serial_number: 'serial number',
  email: 'e-mail address',
  sms: 'SMS text',
  wifi: 'Wi-Fi network',
};

const TEXT = 'text in quotes';
const LIST_OF_TEXT = `a list of ${TEXT}, e.g. ["…"]`;

/** `Phone "RedMi 1S"` by its name where it has one, else `Phone 2`. */
function phoneLabel(input: unknown, i: number): string {
  const name = valueAt(input, ['devices', i, 'name']);
  return typeof name === 'string' && name.trim() ? `Phone ${JSON.stringify(name.trim())}` : `Phone ${i + 1}`;
}

function contactLabel(input: unknown, path: (string | number)[]): string {
  const name = valueAt(input, [...path, 'name']);
  const n = Number(path[path.length - 1]) + 1;
  return typeof name === 'string' && name.trim() ? `contact ${n} (${JSON.stringify(name.trim())})` : `contact ${n}`;
}

const unknownField = (key: string | number | undefined): Place => ({ within: [], field: `the field ${JSON.stringify(key)}` });

/** Where a path of the identifiers file points, in words (shared/issues.ts). */
function describeIdentifiersPath(path: (string | number)[], input: unknown): Place {
  if (path.length === 0) return { within: [], field: 'the identifiers file', expected: 'an object { "devices": [ … ] }' };
  if (path[0] !== 'devices') return unknownField(path[0]);
  if (path.length === 1) return { within: [], field: '"devices"', expected: 'a list [ … ] of phones' };
  const phone = phoneLabel(input, Number(path[1]));
  if (path.length === 2) return { within: [], field: phone, expected: 'an object { "name": …, "imei": [ … ], … }' };
  const [field, item, sub, subItem] = path.slice(2);
  const within = [phone];
  if (field === 'name') return { within, field: 'the name', expected: TEXT };
  if (field === 'client') return { within, field: 'the client address', expected: `an IP address as ${TEXT}, e.g. "192.168.1.23"` };
  if ((VALUE_FIELDS as readonly unknown[]).includes(field)) {
    const words = VALUE_WORDS[field as ValueField];
    return item === undefined ? { within, field: `the ${words} list`, expected: LIST_OF_TEXT } : { within, field: `${words} ${Number(item) + 1}`, expected: TEXT };
  }
  if (field === 'contacts') {
    if (item === undefined) return { within, field: 'the contact list', expected: 'a list of contacts { "name", "phone": [ … ], "email": [ … ] }' };
    const contact = contactLabel(input, path.slice(0, 4));
    if (sub === undefined) return { within, field: contact, expected: 'an object { "name", "phone": [ … ], "email": [ … ] }' };
    const inContact = [phone, contact];
    if (sub === 'name') return { within: inContact, field: 'the name', expected: TEXT };
    const words = sub === 'phone' ? 'phone number' : sub === 'email' ? 'e-mail address' : undefined;
    if (!words) return { ...unknownField(sub), within: inContact };
    return subItem === undefined ? { within: inContact, field: `the ${words} list`, expected: LIST_OF_TEXT } : { within: inContact, field: `${words} ${Number(subItem) + 1}`, expected: TEXT };
  }
  if (field === 'location') {
    if (item === undefined) return { within, field: 'the location list', expected: 'a list of { "lat": …, "lon": … }' };
    const location = `location ${Number(item) + 1}`;
    if (sub === 'lat') return { within: [phone, location], field: 'latitude', expected: 'a number between -90 and 90' };
    if (sub === 'lon') return { within: [phone, location], field: 'longitude', expected: 'a number between -180 and 180' };
    return { within, field: location, expected: 'an object { "lat": …, "lon": … }' };
  }
  return { ...unknownField(field), within };
}

export function parseIdentifiers(input: unknown): ParseResult<Identifiers> {
  return parseWith(identifiersSchema, input, describeIdentifiersPath);
}
