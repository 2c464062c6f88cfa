// The identifiers file: what the tester knows about the phone(s) under test (CONTRACT.md).
// One zod schema serves the CLI (file on disk) and the dashboard (editor), so both reject the same input.
import { z } from 'zod';
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

/** `devices[0].imei[1]: expected string` — the field path and what is wrong, for exit-2 messages. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path
        .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
        .join('');
      return `${path || '(root)'}: ${issue.message}`;
    })
    .join('; ');
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

export function parseIdentifiers(input: unknown): ParseResult<Identifiers> {
  const result = identifiersSchema.safeParse(input);
  return result.success ? { ok: true, value: result.data } : { ok: false, error: describeIssues(result.error) };
}
