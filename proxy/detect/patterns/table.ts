// Pattern detectors: one row per identifier family — its type, its candidates, its validator, its telling keys.
// Each row is a pure function of a decoded value and its key; decoding happened before.
import { parse as parseDomain } from 'tldts';
import type { IdentifierType } from '../../../shared/types';
import { parsePhone } from '../known/normal-forms';
import type { ScanBudget } from './budget';
import { keyHasAny } from './keys';
import {
  ACCOUNT_ID_KEYS,
  ADVERTISING_ID_KEYS,
  ANDROID_ID_KEYS,
  EMAIL_KEYS,
  GENERIC_KEYS,
  ICCID_KEYS,
  IMEI_KEYS,
  IMSI_KEYS,
  LAT_KEYS,
  LON_KEYS,
  MAC_KEYS,
  MEID_KEYS,
  OWN_MAC_KEYS,
  PAIR_KEYS,
  PHONE_KEYS,
  WIFI_ENTRY_KEYS,
  WIFI_KEYS,
} from './telling-keys';
import {
  luhnValid,
  majorHomeNetwork,
  mixedHex,
  placeholderHex,
  plausibleImei,
  startsWithDate,
  validMcc,
} from './validators';

export interface DetectorContext {
  key: string;
  /** the key of the object around the value, where the value's own key says nothing (see `contextsFor`) */
  parentKey: string;
  inList: boolean;
  /** the key names this row's identifier */
  telling: boolean;
  /** the key names a clock, counter or amount */
  negative: boolean;
}

/** What one pass over a value tells every row's `worthALook`, the value-prefix check and the package-name scan. */
export interface TextTraits {
  /** length of the longest run of ASCII digits */
  digitRun: number;
  /** holds an `@` */
  at: boolean;
  /** two `:` or `-` three characters apart, as in `a0:86:c6` (what a separated MAC address needs) */
  macSpaced: boolean;
  /** index of the first `:` or `=` (where a value prefix like `ifa:` would end), -1 for none */
  firstColonOrEquals: number;
  /** a letter right before a `.`: a package name needs one; numbers (`12.5`, the commonest dotted text) never have one */
  letterDot: boolean;
}

/** The traits of `text`, written into `out`; false when it has neither a digit nor an `@` (no row can hit). */
export function textTraits(text: string, out: TextTraits): boolean {
  let run = 0;
  let longest = 0;
  let at = false;
  let lastSeparator = -4;
  let macSpaced = false;
  let firstColonOrEquals = -1;
  let letterDot = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) {
      if (++run > longest) longest = run;
      continue;
    }
    run = 0;
    // letters and all above them, most of any text: none is looked at (the marks are `-` `.` `:` `=` `@`)
    if (c > 0x40) continue;
    if (c === 0x40) at = true; // @
    else if (c === 0x3a || c === 0x2d) { // : -
      if (i - lastSeparator === 3) macSpaced = true;
      lastSeparator = i;
      if (c === 0x3a && firstColonOrEquals < 0) firstColonOrEquals = i;
    } else if (c === 0x3d) { // =
      if (firstColonOrEquals < 0) firstColonOrEquals = i;
    } else if (c === 0x2e && i > 0) { // .
      const before = text.charCodeAt(i - 1) | 0x20; // lower-cased, if a letter
      if (before >= 0x61 && before <= 0x7a) letterDot = true;
    }
  }
  out.digitRun = longest;
  out.at = at;
  out.macSpaced = macSpaced;
  out.firstColonOrEquals = firstColonOrEquals;
  out.letterDot = letterDot;
  return longest > 0 || at;
}

export interface Accepted {
  value: string;
  /** half of a coordinate pair, to be joined with its sibling */
  part?: 'lat' | 'lon';
  /** trusted only when enough siblings agree (phone numbers in a list) */
  weak?: boolean;
}

export interface PatternDetector {
  type: IdentifierType;
  tellingKeys: ReadonlySet<string>;
  /**
   * Whether a key (with the key of the object around it) names this row's identifier; default: a telling
   * key, or a generic one (`value`) inside an object under a telling key (`phoneNumbers[].value`).
   */
  tells?: (key: string, parentKey: string) => boolean;
  /** global regex finding candidates in a decoded value */
  candidates: RegExp;
  /**
   * What the key alone must be for the row to run (default: any): asked once per key, not per value. Like
   * `worthALook`, it only rules out what `accept` would refuse.
   */
  keyWorthALook?: (ctx: DetectorContext) => boolean;
  /**
   * cheap test a value must pass before `candidates` runs (default: any); the row is skipped otherwise. It only
   * rules out values in which `candidates` and `accept` could find nothing, so it never changes what the row
   * reports.
   */
  worthALook?: (text: string, ctx: DetectorContext, traits: TextTraits) => boolean;
  /** `budget`: what this scan may still spend on costly validations */
  accept(candidate: string, ctx: DetectorContext, budget: ScanBudget): Accepted | string | undefined;
  /**
   * Without a telling key, whatever `accept` takes is weak (trusted only when enough siblings agree): the
   * caller may then hold the candidate back and validate it only if it has enough siblings to be trusted.
   */
  weakUnlessTelling?: boolean;
}

const WIFI_CHILD_OR_GENERIC = new Set([...WIFI_ENTRY_KEYS, ...GENERIC_KEYS]);

/** A key written as one lower-case word (`phone_Number` → `phonenumber`), to look up whole keys. */
export const flatKey = (key: string) => key.toLowerCase().replace(/[^a-z0-9]/g, '');

/** Whether a key names a Wi-Fi access point: its own words, or an entry's key inside a Wi-Fi list. */
export function wifiKey(key: string, parentKey: string): boolean {
  if (keyHasAny(key, OWN_MAC_KEYS)) return false;
  if (keyHasAny(key, WIFI_KEYS)) return true;
  return parentKey !== '' && WIFI_CHILD_OR_GENERIC.has(flatKey(key)) && keyHasAny(parentKey, WIFI_KEYS) && !keyHasAny(parentKey, OWN_MAC_KEYS);
}

const FIFTEEN_DIGITS = /(?<![\d.])\d{15}(?!\d|\.\d)/g;
const FAKE_MACS = new Set(['02:00:00:00:00:00', 'ff:ff:ff:ff:ff:ff']);
const MAC_CANDIDATES = /(?<![0-9A-Za-z:-])(?:[0-9A-Fa-f]{2}(?:[:-][0-9A-Fa-f]{2}){5}|[0-9A-Fa-f]{12})(?![0-9A-Za-z:-])/g;
const MAC_SHAPED = /[0-9A-Fa-f]{2}[:-][0-9A-Fa-f]{2}[:-]/;

/** `A0-86-C6-12-34-56` → `a0:86:c6:12:34:56`; undefined for mixed separators, placeholders, bare hex untold. */
function normalMac(c: string, telling: boolean): string | undefined {
  const separators = new Set(c.replace(/[0-9A-Fa-f]/g, ''));
  if (separators.size > 1 || (separators.size === 0 && !telling) || placeholderHex(c)) return undefined;
  const mac = (c.replace(/[:-]/g, '').toLowerCase().match(/../g) ?? []).join(':');
  return FAKE_MACS.has(mac) ? undefined : mac;
}

function coordinate(s: string, limit: number): boolean {
  const n = Number(s);
  return Number.isFinite(n) && Math.abs(n) <= limit && n !== 0;
}

export const PATTERN_DETECTORS: readonly PatternDetector[] = [
  {
    type: 'imei',
    tellingKeys: IMEI_KEYS,
    candidates: FIFTEEN_DIGITS,
    worthALook: (_, __, traits) => traits.digitRun >= 15,
    accept: (c, ctx) => {
      if (ctx.negative || keyHasAny(ctx.key, IMSI_KEYS) || keyHasAny(ctx.key, ICCID_KEYS)) return undefined;
      return plausibleImei(c) || (ctx.telling && luhnValid(c) && !placeholderHex(c)) ? c : undefined;
    },
  },
  {
    type: 'meid',
    tellingKeys: MEID_KEYS,
    candidates: /(?<![0-9A-Za-z])[0-9A-Fa-f]{14}(?![0-9A-Za-z])/g,
    keyWorthALook: (ctx) => ctx.telling,
    // Hex MEIDs have a manufacturer code of A0–FF; decimal-only strings are IMEI territory.
    accept: (c, ctx) => (ctx.telling && /^[a-fA-F]/.test(c) && mixedHex(c) && !placeholderHex(c) ? c.toUpperCase() : undefined),
  },
  {
    type: 'imsi',
    tellingKeys: IMSI_KEYS,
    candidates: FIFTEEN_DIGITS,
    worthALook: (_, __, traits) => traits.digitRun >= 15,
    accept: (c, ctx) => {
      if (ctx.negative || !validMcc(c)) return undefined;
      if (ctx.telling) return c;
      return majorHomeNetwork(c) && !plausibleImei(c) && !startsWithDate(c) && !keyHasAny(ctx.key, IMEI_KEYS) && !keyHasAny(ctx.key, ACCOUNT_ID_KEYS) ? c : undefined;
    },
  },
  {
    type: 'iccid',
    tellingKeys: ICCID_KEYS,
    candidates: /(?<![\d.])89\d{17,18}(?!\d)/g,
    worthALook: (t, _, traits) => traits.digitRun >= 19 && t.includes('89'),
    accept: (c, ctx) => (!ctx.negative && (ctx.telling || luhnValid(c)) ? c : undefined),
  },
  {
    type: 'mac_address',
    tellingKeys: MAC_KEYS,
    candidates: MAC_CANDIDATES,
    worthALook: (t, ctx, traits) => ctx.telling || (traits.macSpaced && MAC_SHAPED.test(t)),
    // under a Wi-Fi key it is an access point's: the `wifi` row's
    accept: (c, ctx) => (wifiKey(ctx.key, ctx.parentKey) ? undefined : normalMac(c, ctx.telling)),
  },
  {
    type: 'wifi',
    tellingKeys: WIFI_KEYS,
    tells: wifiKey,
    candidates: MAC_CANDIDATES,
    keyWorthALook: (ctx) => ctx.telling,
    accept: (c, ctx) => (ctx.telling ? normalMac(c, true) : undefined),
  },
  {
    type: 'email',
    tellingKeys: EMAIL_KEYS,
    candidates: /(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@(?:[A-Za-z0-9-]{1,63}\.){1,8}[A-Za-z]{2,24}(?![\w-])/g,
    worthALook: (_, __, traits) => traits.at,
    accept: (c) => {
      const domain = parseDomain(c.slice(c.indexOf('@') + 1));
      return domain.isIcann && domain.domain ? c.toLowerCase() : undefined;
    },
  },
  {
    type: 'android_id',
    tellingKeys: ANDROID_ID_KEYS,
    candidates: /(?<![0-9A-Za-z-])[0-9a-fA-F]{16}(?![0-9A-Za-z-])/g,
    keyWorthALook: (ctx) => ctx.telling,
    accept: (c, ctx) => (ctx.telling && mixedHex(c) && !placeholderHex(c) ? c.toLowerCase() : undefined),
  },
  {
    type: 'advertising_id',
    tellingKeys: ADVERTISING_ID_KEYS,
    candidates: /(?<![0-9A-Za-z-])[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?![0-9A-Za-z-])/g,
    keyWorthALook: (ctx) => ctx.telling,
    accept: (c, ctx) => (ctx.telling && !placeholderHex(c) ? c.toLowerCase() : undefined),
  },
  {
    type: 'phone_number',
    tellingKeys: PHONE_KEYS,
    candidates: /(?<![\w+])\+?\d[\d ().-]{4,20}\d(?!\w)/g,
    weakUnlessTelling: true,
    keyWorthALook: (ctx) => (ctx.telling || ctx.inList) && !ctx.negative,
    accept: (c, ctx, budget) => {
      if (ctx.negative || (!ctx.telling && !ctx.inList) || !budget.takePhoneValidation()) return undefined;
      const parsed = parsePhone(c);
      if (!parsed?.isValid()) return undefined;
      return { value: parsed.number, weak: !ctx.telling };
    },
  },
  {
    type: 'location',
    tellingKeys: new Set([...LAT_KEYS, ...LON_KEYS, ...PAIR_KEYS]),
    candidates: /(?<![\d.])-?\d{1,3}\.\d{3,}(?:\s*[,; ]\s*-?\d{1,3}\.\d{3,})?(?![\d.])/g,
    keyWorthALook: (ctx) => ctx.telling,
    accept: (c, ctx) => {
      const numbers = c.split(/\s*[,; ]\s*/);
      if (numbers.length === 2) {
        if (!keyHasAny(ctx.key, PAIR_KEYS)) return undefined;
        // lat,lon unless the first cannot be a latitude or the key says lng first
        const swap = Math.abs(Number(numbers[0])) > 90 || /lnglat|lonlat/i.test(ctx.key);
        const [lat, lon] = swap ? [numbers[1], numbers[0]] : numbers;
        return coordinate(lat, 90) && coordinate(lon, 180) ? `${lat},${lon}` : undefined;
      }
      if (keyHasAny(ctx.key, LAT_KEYS) && coordinate(c, 90)) return { value: c, part: 'lat' };
      if (keyHasAny(ctx.key, LON_KEYS) && coordinate(c, 180)) return { value: c, part: 'lon' };
      return undefined;
    },
  },
];
