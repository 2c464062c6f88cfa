// `leakscope canaries`: fake contacts to plant in the phone's address book, registered as known values.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { Command, InvalidArgumentError } from 'commander';
import { CANARY_DEVICE, EMPTY_IDENTIFIERS, type Contact, type Identifiers } from '../../shared/identifiers';
import { loadIdentifiersFile } from '../config/load-identifiers';
import { UsageError } from './errors';

/** 555-0100…0199 is reserved for fiction in the NANP; several area codes give room for more canaries. */
const AREA_CODES = ['202', '212', '312', '415', '617', '713', '206', '303', '404', '503'];
const MAX_CANARIES = AREA_CODES.length * 100;
const FIRST = ['Alice', 'Bruno', 'Chen', 'Dana', 'Emeka', 'Farah', 'Goran', 'Hana', 'Ivan', 'Jun', 'Kofi', 'Lena'];

/** vCard 3.0 text values escape backslash, comma, semicolon and newline. */
const vcardText = (s: string) => s.replace(/[\\,;]/g, (c) => `\\${c}`).replace(/\n/g, '\\n');

export function vcard(contact: Contact): string {
  const [given, family] = contact.name.split(' ');
  return [
    'BEGIN:VCARD',
    'VERSION:3.0',
    `N:${vcardText(family ?? '')};${vcardText(given)};;;`,
    `FN:${vcardText(contact.name)}`,
    ...contact.phone.map((p) => `TEL;TYPE=CELL:${p}`),
    ...contact.email.map((e) => `EMAIL;TYPE=INTERNET:${e}`),
    'END:VCARD',
  ].join('\r\n');
}

/** A .vcf file of several cards, as phones import it. */
export function vcardFile(contacts: Contact[]): string {
  return `${contacts.map(vcard).join('\r\n')}\r\n`;
}

function usedNumbers(identifiers: Identifiers): Set<string> {
  const digits = identifiers.devices.flatMap((d) => d.contacts.flatMap((c) => c.phone)).map((p) => p.replace(/\D/g, ''));
  return new Set(digits);
}

/**
 * N canaries whose numbers are not in the file yet; the e-mail tag is random so two runs never collide, and the
 * names number on from the canaries already there, so each is one person in the findings (`contact`).
 */
export function makeCanaries(count: number, identifiers: Identifiers): Contact[] {
  const used = usedNumbers(identifiers);
  const tag = randomBytes(3).toString('hex');
  const planted = identifiers.devices.filter((d) => d.name === CANARY_DEVICE).reduce((sum, d) => sum + d.contacts.length, 0);
  const contacts: Contact[] = [];
  for (let slot = 0; slot < MAX_CANARIES && contacts.length < count; slot++) {
    const area = AREA_CODES[Math.floor(slot / 100)];
    const line = `01${String(slot % 100).padStart(2, '0')}`;
    const phone = `+1 ${area} 555 ${line}`;
    if (used.has(phone.replace(/\D/g, ''))) continue;
    const n = planted + contacts.length;
    const name = `${FIRST[n % FIRST.length]} Canary${n + 1}`;
    contacts.push({ name, phone: [phone], email: [`canary-${tag}-${n + 1}@example.org`] });
  }
  if (contacts.length < count) throw new UsageError(`--count: only ${contacts.length} unused canary numbers are left`);
  return contacts;
}

type RawDevice = { name?: unknown; contacts?: unknown[] };

/**
 * Appends the canaries to the `canaries` device (created if missing) of the file as the user wrote it,
 * so fields zod would fill with defaults, and fields it does not know, stay as they were.
 */
export function addCanaries(raw: Record<string, unknown>, contacts: Contact[]): Record<string, unknown> {
  const devices = (Array.isArray(raw.devices) ? raw.devices : []).map((d: RawDevice) => ({ ...d }));
  let device = devices.find((d) => d.name === CANARY_DEVICE);
  if (!device) {
    device = { name: CANARY_DEVICE };
    devices.push(device);
  }
  device.contacts = [...(device.contacts ?? []), ...contacts];
  return { ...raw, devices };
}

function positiveCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_CANARIES) throw new InvalidArgumentError(`must be a whole number from 1 to ${MAX_CANARIES}`);
  return n;
}

/** The file as the user wrote it (unknown fields kept) and as validated, or a fresh one. */
export function readIdentifiers(path: string): { raw: Record<string, unknown>; current: Identifiers } {
  if (!existsSync(path)) return { raw: {}, current: EMPTY_IDENTIFIERS };
  const current = loadIdentifiersFile(path); // validates, with a message naming what is wrong
  return { raw: JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>, current };
}

export function canariesCommand(): Command {
  return new Command('canaries')
    .description('make N canary contacts (vCard 3.0) to import into the phone, and add them to the identifiers file')
    .option('--count <n>', 'how many contacts', positiveCount, 10)
    .option('--out <file>', 'vCard file to write', 'canaries.vcf')
    .option('--identifiers <file>', 'identifiers file to add them to (created if missing)', 'identifiers.json')
    .action((opts: { count: number; out: string; identifiers: string }) => {
      const { raw, current } = readIdentifiers(opts.identifiers);
      const contacts = makeCanaries(opts.count, current);
      const updated = addCanaries(raw, contacts);
      try {
        writeFileSync(opts.out, vcardFile(contacts));
        writeFileSync(opts.identifiers, `${JSON.stringify(updated, null, 2)}\n`);
      } catch (err) {
        throw new UsageError(`cannot write ${opts.out} or ${opts.identifiers}: ${(err as Error).message}`);
      }
      console.log(`wrote ${contacts.length} canary contacts to ${opts.out}; added them to ${opts.identifiers} (device "${CANARY_DEVICE}")`);
      console.log('import the .vcf into the phone (Contacts → Import); any request that carries them is flagged as a contact leak');
    });
}
