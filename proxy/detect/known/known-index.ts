// Known-value matching: every form of every identifiers-file value in one matcher, built once per file.
import { CANARY_DEVICE, type Device, type Identifiers } from '../../../shared/identifiers';
import type { IdentifierType } from '../../../shared/types';
import { datumVariants } from './datums';
import { encodedForms } from './encoded-forms';
import { MultiMatcher, WINDOW } from './multi-matcher';
import { normalForms, NORMAL_FORMS } from './normal-forms';

/** What must not touch a match at its edge, so `13800138000` does not fire inside `913800138000`. */
const enum Edge {
  Free,
  NotDigit,
  NotHex,
  NotAlnum,
}

/**
 * Whose value it is: a phone's (`device`), or planted ones' (`source`, no device: they are credited to the phone
 * that sends them). Each value carries exactly one of the two, and findings copy them as they are.
 */
export interface Owner {
  device?: string;
  source?: string;
}

export interface KnownForm extends Owner {
  text: string;
  type: IdentifierType;
  /** the value as the tester wrote it */
  value: string;
  /** encodings applied to the normal form, innermost first */
  chain: string[];
  /** which contact (across devices) the value belongs to, for contact-list counting */
  contact?: number;
  /** that contact as the finding names it (contactLabels) */
  contactLabel?: string;
  startEdge: Edge;
  endEdge: Edge;
}

export interface KnownCoordinate extends Owner {
  location: number;
  /** written in another datum than the tester gave (see `datumVariants`) */
  datum?: string;
  part: 'lat' | 'lon';
  value: string;
}

const ownerOf = (device: Device): Owner => (device.name === CANARY_DEVICE ? { source: CANARY_DEVICE } : { device: device.name });

/** A finding's owner fields, copied from the form or coordinate that matched. */
export const ownedBy = (o: Owner): Owner => (o.source ? { source: o.source } : { device: o.device });

export interface KnownIndex {
  forms: KnownForm[];
  matcher: MultiMatcher;
  /** 3-decimal coordinate text → the known locations it belongs to */
  coordinates: Map<string, KnownCoordinate[]>;
}

export interface KnownHit {
  form: KnownForm;
  start: number;
  end: number;
}

export interface CoordinateHit extends KnownCoordinate {
  start: number;
  end: number;
}

function edgeOf(char: string, form: string): Edge {
  if (/^[0-9]+$/.test(form)) return Edge.NotDigit;
  if (/^[0-9a-fA-F]+$/.test(form)) return Edge.NotHex;
  if (/[0-9]/.test(char)) return Edge.NotDigit;
  return /[A-Za-z]/.test(char) ? Edge.NotAlnum : Edge.Free;
}

function touches(code: number, edge: Edge): boolean {
  const digit = code >= 48 && code <= 57;
  const upper = code >= 65 && code <= 90;
  const lower = code >= 97 && code <= 122;
  if (edge === Edge.NotDigit) return digit;
  if (edge === Edge.NotHex) return digit || (code >= 65 && code <= 70) || (code >= 97 && code <= 102);
  if (edge === Edge.NotAlnum) return digit || upper || lower;
  return false;
}

/** Coordinates as written to 3 decimals, cut and rounded (SDKs do either). */
export function coordinateKeys(text: string): string[] {
  const dot = text.indexOf('.');
  const cut = dot < 0 ? `${text}.000` : text.slice(0, dot + 4).padEnd(dot + 4, '0');
  const rounded = Number(text).toFixed(3);
  return cut === rounded ? [cut] : [cut, rounded];
}

/** An Android ID's 64-bit decimal forms are matched as written, not encoded further: SDKs send the number. */
const DECIMAL = /^-?\d+$/;

/**
 * Each contact's name for its findings, in file order: its name, else its first phone or e-mail; a name two
 * contacts share gets ` (2)`, ` (3)` on the later ones, so counting contacts by it counts people, not values.
 */
function contactLabels(identifiers: Identifiers): string[] {
  const used = new Map<string, number>();
  return identifiers.devices.flatMap((d) =>
    d.contacts.map((c) => {
      const base = c.name.trim() || c.phone[0] || c.email[0] || 'unnamed contact';
      const n = (used.get(base) ?? 0) + 1;
      used.set(base, n);
      return n === 1 ? base : `${base} (${n})`;
    }),
  );
}

export function buildKnownIndex(identifiers: Identifiers): KnownIndex {
  const forms: KnownForm[] = [];
  const coordinates = new Map<string, KnownCoordinate[]>();
  const add = (type: IdentifierType, formType: keyof typeof NORMAL_FORMS, value: string, owner: Owner, contact?: { id: number; label: string }) => {
    // One entry per text and chain: every entry costs the matcher filter bits, and the filter is sized to fit
    // in cache (two forms can coincide: hex with and without leading zeros, when no byte is below 0x10).
    const seen = new Set<string>();
    for (const normal of normalForms(formType, value, WINDOW)) {
      for (const encoded of formType === 'android_id' && DECIMAL.test(normal) ? [{ text: normal, chain: [] }] : encodedForms(normal)) {
        if (encoded.text.length < WINDOW) continue;
        const key = `${encoded.text}\u0000${encoded.chain.join('+')}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const plain = encoded.chain.length === 0;
        forms.push({
          text: encoded.text,
          type,
          value,
          ...owner,
          chain: encoded.chain,
          ...(contact ? { contact: contact.id, contactLabel: contact.label } : {}),
          startEdge: plain ? edgeOf(encoded.text[0], encoded.text) : Edge.Free,
          endEdge: plain ? edgeOf(encoded.text[encoded.text.length - 1], encoded.text) : Edge.Free,
        });
      }
    }
  };
  const labels = contactLabels(identifiers);
  let contactCount = 0;
  let locationCount = 0;
  for (const device of identifiers.devices) {
    const owner = ownerOf(device);
    for (const type of Object.keys(NORMAL_FORMS) as (keyof typeof NORMAL_FORMS)[]) {
      for (const value of device[type]) add(type, type, value, owner);
    }
    for (const contact of device.contacts) {
      const id = contactCount++;
      const ref = { id, label: labels[id] };
      for (const phone of contact.phone) add('contact', 'phone_number', phone, owner, ref);
      for (const email of contact.email) add('contact', 'email', email, owner, ref);
    }
    for (const given of device.location) {
      const value = `${given.lat},${given.lon}`;
      // Each datum's reading is a location of its own: its lat pairs only with its own lon.
      for (const { lat, lon, datum } of datumVariants(given.lat, given.lon)) {
        const location = locationCount++;
        for (const [part, n] of [['lat', lat], ['lon', lon]] as const) {
          for (const key of coordinateKeys(String(n))) {
            const list = coordinates.get(key) ?? [];
            list.push({ location, part, value, ...owner, ...(datum ? { datum } : {}) });
            coordinates.set(key, list);
          }
        }
      }
    }
  }
  return { forms, matcher: new MultiMatcher(forms.map((f) => f.text)), coordinates };
}

/** What most segments hold: one list for all of them, not a new one each. */
const NO_KNOWN_HITS: readonly KnownHit[] = [];
const NO_COORDINATE_HITS: readonly CoordinateHit[] = [];

export function knownHits(text: string, index: KnownIndex): readonly KnownHit[] {
  let hits: KnownHit[] | undefined;
  index.matcher.forEach(text, (id, start) => {
    const form = index.forms[id];
    const end = start + form.text.length;
    if (start > 0 && touches(text.charCodeAt(start - 1), form.startEdge)) return;
    if (end < text.length && touches(text.charCodeAt(end), form.endEdge)) return;
    (hits ??= []).push({ form, start, end });
  });
  if (hits === undefined) return NO_KNOWN_HITS;
  // Findings come out in the order they sit in the text, whichever sampled window found them (the sort is
  // stable, and hits at one start come from one window, in form order).
  if (hits.length > 1) hits.sort((a, b) => a.start - b.start);
  return hits;
}

const COORDINATE = /(?<![\d.])-?\d{1,3}\.\d{3,}(?![\d.])/g;

const isDigit = (c: number) => c >= 0x30 && c <= 0x39;

/** A digit, a dot and three digits: what COORDINATE needs, looked for without running it. */
function mayHoldCoordinate(text: string): boolean {
  for (let dot = text.indexOf('.', 1); dot >= 0 && dot + 3 < text.length; dot = text.indexOf('.', dot + 1)) {
    if (isDigit(text.charCodeAt(dot - 1)) && isDigit(text.charCodeAt(dot + 1)) && isDigit(text.charCodeAt(dot + 2)) && isDigit(text.charCodeAt(dot + 3))) return true;
  }
  return false;
}

export function coordinateHits(text: string, index: KnownIndex): readonly CoordinateHit[] {
  if (index.coordinates.size === 0 || !mayHoldCoordinate(text)) return NO_COORDINATE_HITS;
  let hits: CoordinateHit[] | undefined;
  // exec, not matchAll: that clones the regex on every call
  COORDINATE.lastIndex = 0;
  for (let m = COORDINATE.exec(text); m !== null; m = COORDINATE.exec(text)) {
    const [cut, rounded] = coordinateKeys(m[0]);
    const first = index.coordinates.get(cut);
    const second = rounded === undefined ? undefined : index.coordinates.get(rounded);
    if (first === undefined && second === undefined) continue;
    for (const known of first ?? []) (hits ??= []).push({ ...known, start: m.index, end: m.index + m[0].length });
    for (const known of second ?? []) if (!first?.includes(known)) (hits ??= []).push({ ...known, start: m.index, end: m.index + m[0].length });
  }
  return hits ?? NO_COORDINATE_HITS;
}
