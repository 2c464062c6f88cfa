// Turns the segments of one request into findings: known matches, pattern hits, and the rules that need
// more than one segment (coordinate pairs, phone lists, contact slurping).
import type { Finding } from '../../shared/types';
import { coordinateHits, knownHits, ownedBy, type CoordinateHit, type KnownForm, type KnownIndex } from './known/known-index';
import type { PatternHit, Span } from './patterns/run';
import { ScanBudget } from './patterns/budget';
import { confirmHit, patternHits, traitsOf } from './patterns/run';
import { INSTALLED_APPS_MIN, packageNames } from './patterns/installed-apps';
import { encodingName, type Segment } from './segment';

export interface ScanResult {
  findings: Finding[];
  tags: string[];
}

/** Distinct contacts of the tester's in one request that make it an address-book upload. */
const CONTACT_LIST_CONTACTS = 3;
/** Distinct valid phone numbers in one request that make it an address-book upload. */
const CONTACT_LIST_NUMBERS = 5;
/** Valid numbers in one list that make its unlabelled elements phone numbers. */
const PHONE_LIST_MIN = 3;

/** Distinct access points (BSSIDs) in one request that make it a Wi-Fi scan: a location fix by another name. */
const WIFI_SCAN_BSSIDS = 3;
export const WIFI_SCAN_TAG = 'wifi-scan';
const BSSID = /^[0-9a-f]{2}(?:[:-]?[0-9a-f]{2}){5}$/i;

const NO_SPANS: readonly Span[] = [];

/**
 * The flow's tag when its findings are not all there: some phone-like candidates went unvalidated (see
 * `ScanBudget`), or there were more findings than one flow keeps.
 */
export const SCAN_CAPPED_TAG = 'scan-capped';

/**
 * Findings one flow keeps: twice what uploading a large address book (phone and e-mail per contact) makes.
 * A 1 MiB body of MAC addresses makes 58,000, which would be megabytes per stored flow and per live event.
 */
export const FINDINGS_PER_SCAN = 5_000;

/** At most FINDINGS_PER_SCAN, the tester's own values first: they are the evidence the tester asked for. */
function kept(findings: Finding[]): Finding[] {
  if (findings.length <= FINDINGS_PER_SCAN) return findings;
  const known = findings.filter((f) => f.confidence === 'known');
  return [...known, ...findings.filter((f) => f.confidence !== 'known')].slice(0, FINDINGS_PER_SCAN);
}

/**
 * Findings, each (type, value, where, path, encoding) once, in the order they came. Looked up by value alone:
 * a known value's string is the same one every time (its hash computed once), where a key joined from all five
 * would be a new string to build and hash per hit, and the findings sharing a value are few.
 */
class FindingSet {
  private readonly byValue = new Map<string, Finding[]>();
  private readonly list: Finding[] = [];
  add(f: Finding): void {
    const same = this.byValue.get(f.value);
    if (same === undefined) this.byValue.set(f.value, [f]);
    else if (same.some((g) => g.type === f.type && g.where === f.where && g.path === f.path && g.encoding === f.encoding)) return;
    else same.push(f);
    this.list.push(f);
  }
  get size(): number {
    return this.list.length;
  }
  get all(): Finding[] {
    return this.list;
  }
}

/** A finding's type and place, its value aside. */
const slotKeyOf = (f: Finding) => `${f.type}\u0000${f.where}\u0000${f.path}\u0000${f.encoding}`;

interface Placed<T> {
  hit: T;
  segment: Segment;
}

const slotOf = (s: Segment) => `${s.where}\u0000${s.parent}\u0000${s.chain.join('+')}`;

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = groups.get(k);
    if (list) list.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

/** Where a pair of siblings is reported: their segment if they share one, else their container. */
function pairPath(a: Segment, b: Segment): string {
  return a === b ? a.path : a.parent || a.path;
}

function pairKnownCoordinates(hits: Placed<CoordinateHit>[], out: FindingSet): void {
  for (const group of groupBy(hits, (h) => `${h.hit.location}\u0000${slotOf(h.segment)}`).values()) {
    const lat = group.find((h) => h.hit.part === 'lat');
    const lon = group.find((h) => h.hit.part === 'lon' && (h.segment === lat?.segment || h.segment.parent === lat?.segment.parent));
    if (!lat || !lon) continue;
    out.add({
      type: 'location',
      value: lat.hit.value,
      where: lat.segment.where,
      path: pairPath(lat.segment, lon.segment),
      encoding: encodingName(lat.hit.datum ? [lat.hit.datum, ...lat.segment.chain] : lat.segment.chain),
      confidence: 'known',
      ...ownedBy(lat.hit),
    });
  }
}

function pairPatternCoordinates(parts: Placed<PatternHit>[], out: FindingSet): void {
  for (const group of groupBy(parts, (p) => slotOf(p.segment)).values()) {
    const lat = group.find((p) => p.hit.part === 'lat');
    const lon = group.find((p) => p.hit.part === 'lon');
    if (!lat || !lon) continue;
    out.add(patternFinding({ ...lat.hit, value: `${lat.hit.value},${lon.hit.value}` }, lat.segment, pairPath(lat.segment, lon.segment)));
  }
}

/** The path the paths share, cut at a step: `$.apps[0].pkg` and `$.apps[1].pkg` → `$.apps`. */
function commonPath(paths: string[]): string {
  let common = paths[0];
  for (const p of paths) {
    let i = 0;
    while (i < common.length && i < p.length && common[i] === p[i]) i++;
    common = common.slice(0, i);
  }
  if (paths.every((p) => p === common)) return common;
  const cut = Math.max(common.lastIndexOf('.'), common.lastIndexOf('['));
  return cut > 0 ? common.slice(0, cut) : common.replace(/[.[]$/, '');
}

/** One finding for the request's package names, where most of them sit, with their number. */
function installedApps(apps: Map<string, Segment>): Finding {
  const segments = [...apps.values()];
  const first = segments[0];
  return {
    type: 'installed_apps',
    value: [...apps.keys()].join(','),
    where: first.where,
    path: commonPath(segments.filter((s) => s.where === first.where).map((s) => s.path)),
    encoding: encodingName(first.chain),
    confidence: 'pattern',
    count: apps.size,
  };
}

/** Built field by field, in the order findings list them: spreading the owner in costs a copy per hit. */
function knownFinding(form: KnownForm, segment: Segment, encoding: string): Finding {
  const finding: Finding = { type: form.type, value: form.value, where: segment.where, path: segment.path, encoding, confidence: 'known' };
  if (form.source) finding.source = form.source;
  else finding.device = form.device;
  if (form.contactLabel) finding.contact = form.contactLabel;
  return finding;
}

function patternFinding(hit: PatternHit, segment: Segment, path = segment.path): Finding {
  return { type: hit.type, value: hit.value, where: segment.where, path, encoding: encodingName(segment.chain), confidence: 'pattern' };
}

export function analyze(segments: Segment[], index: KnownIndex): ScanResult {
  const found = new FindingSet();
  const contacts = new Set<number>();
  const phoneNumbers = new Set<string>();
  const coordinates: Placed<CoordinateHit>[] = [];
  const coordinateParts: Placed<PatternHit>[] = [];
  const heldPhones: Placed<PatternHit>[] = [];
  const weakPhones: Placed<PatternHit>[] = [];
  const strongPatterns: Placed<PatternHit>[] = [];
  const budget = new ScanBudget();
  const apps = new Map<string, Segment>();

  for (const segment of segments) {
    // one pass over the text for the package-name scan and every pattern row (read before the next segment)
    const traits = traitsOf(segment.text);
    for (const name of packageNames(segment.text, traits.letterDot)) if (!apps.has(name)) apps.set(name, segment);
    const known = knownHits(segment.text, index);
    for (const { form } of known) {
      const encoding = form.chain.length === 0 ? encodingName(segment.chain) : encodingName([...form.chain, ...segment.chain]);
      found.add(knownFinding(form, segment, encoding));
      if (form.contact !== undefined) contacts.add(form.contact);
      if (form.type === 'phone_number' || (form.type === 'contact' && !form.value.includes('@'))) phoneNumbers.add(form.value);
    }
    const knownCoordinates = coordinateHits(segment.text, index);
    for (const hit of knownCoordinates) coordinates.push({ hit, segment });
    // A pattern hit inside a known match is the same occurrence, already reported with more certainty.
    const knownSpans = known.length + knownCoordinates.length === 0 ? NO_SPANS : [...known.filter((k) => k.form.chain.length === 0), ...knownCoordinates];
    for (const hit of patternHits(segment, knownSpans, true, budget, traits)) {
      const placed = { hit, segment };
      if (hit.unconfirmed) heldPhones.push(placed);
      else if (hit.part) coordinateParts.push(placed);
      else if (hit.weak) weakPhones.push(placed);
      else strongPatterns.push(placed);
    }
  }

  // Weak phone numbers count only PHONE_LIST_MIN distinct to a slot, and distinct numbers are written as
  // distinct candidates: a slot with fewer distinct candidates needs none of them validated.
  const listSlots = new Set<string>();
  for (const [slot, group] of groupBy(heldPhones, (p) => slotOf(p.segment))) {
    if (new Set(group.map((p) => p.hit.value)).size >= PHONE_LIST_MIN) listSlots.add(slot);
  }
  for (const { hit, segment } of heldPhones) {
    const confirmed = listSlots.has(slotOf(segment)) ? confirmHit(hit, budget) : undefined;
    if (confirmed) weakPhones.push({ hit: confirmed, segment });
  }
  for (const group of groupBy(weakPhones, (p) => slotOf(p.segment)).values()) {
    if (new Set(group.map((p) => p.hit.value)).size >= PHONE_LIST_MIN) strongPatterns.push(...group);
  }
  // Where a known value was found, a pattern of its type says nothing more. Only known findings are in `found`
  // yet, and most requests have no strong pattern to check: the slots are built only for those that do.
  if (strongPatterns.length > 0) {
    const knownSlots = new Set(found.all.map(slotKeyOf));
    for (const { hit, segment } of strongPatterns) {
      const finding = patternFinding(hit, segment);
      if (knownSlots.has(slotKeyOf(finding))) continue;
      found.add(finding);
      if (hit.type === 'phone_number') phoneNumbers.add(hit.value);
    }
  }
  pairKnownCoordinates(coordinates, found);
  pairPatternCoordinates(coordinateParts, found);
  if (apps.size >= INSTALLED_APPS_MIN) found.add(installedApps(apps));

  const tags = contacts.size >= CONTACT_LIST_CONTACTS || phoneNumbers.size >= CONTACT_LIST_NUMBERS ? ['contact-list'] : [];
  const all = found.all;
  const bssids = new Set(all.filter((f) => f.type === 'wifi' && BSSID.test(f.value)).map((f) => f.value.toLowerCase().replace(/[:-]/g, '')));
  if (bssids.size >= WIFI_SCAN_BSSIDS) tags.push(WIFI_SCAN_TAG);
  const findings = kept(all);
  if (budget.exhausted || findings.length < found.size) tags.push(SCAN_CAPPED_TAG);
  return { findings, tags };
}
