// Runs the pattern table over one decoded segment.
import type { IdentifierType } from '../../../shared/types';
import type { Segment } from '../segment';
import { ScanBudget } from './budget';
import { keyHasAny, NOT_AN_IDENTIFIER } from './keys';
import { flatKey, PATTERN_DETECTORS, textTraits, type DetectorContext, type PatternDetector, type TextTraits } from './table';
import { GENERIC_KEYS, VALUE_PREFIXES, WIFI_ENTRY_KEYS } from './telling-keys';

export interface PatternHit {
  type: IdentifierType;
  value: string;
  start: number;
  end: number;
  part?: 'lat' | 'lon';
  weak?: boolean;
  /**
   * Held back, not yet validated (see `patternHits`' `holdWeak`): `value` is the raw candidate, and the hit
   * counts only if `confirmHit` returns one.
   */
  unconfirmed?: { row: PatternDetector; ctx: DetectorContext };
}

/** A stretch of the segment already reported with more certainty (a known value). */
export interface Span {
  start: number;
  end: number;
}

/** Reused for every segment: read within one synchronous call (see `traitsOf`). */
const traits: TextTraits = { digitRun: 0, at: false, macSpaced: false, firstColonOrEquals: -1, letterDot: false };

/** The traits of `text`, in an object reused for every segment: read them before the next call. */
export function traitsOf(text: string): TextTraits {
  textTraits(text, traits);
  return traits;
}

/** The rows worth running under one key (their `keyWorthALook` holds), each with its context for that key. */
interface KeyRows {
  rows: readonly PatternDetector[];
  ctxs: readonly DetectorContext[];
  /** the key says nothing alone: its parent key decides (see `rowsFor`) */
  parentMatters: boolean;
}

/**
 * The rows for one key (with its parent key, in a list or not), built once: keys repeat across segments and
 * requests, and every row asks about them. Keyed by the key alone, or by key and parent where it matters.
 */
const keyRows = [new Map<string, KeyRows>(), new Map<string, KeyRows>()];

/** The parent key matters only under a key that says nothing alone, or an entry's key of a Wi-Fi list. */
const PARENT_MATTERS = new Set([...GENERIC_KEYS, ...WIFI_ENTRY_KEYS]);

function buildRows(key: string, parent: string, inList: boolean): KeyRows {
  const negative = keyHasAny(key, NOT_AN_IDENTIFIER);
  const generic = GENERIC_KEYS.has(flatKey(key));
  const rows: PatternDetector[] = [];
  const ctxs: DetectorContext[] = [];
  for (const row of PATTERN_DETECTORS) {
    const ctx = {
      key,
      parentKey: parent,
      inList,
      telling: row.tells ? row.tells(key, parent) : keyHasAny(key, row.tellingKeys) || (generic && keyHasAny(parent, row.tellingKeys)),
      negative,
    };
    if (row.keyWorthALook && !row.keyWorthALook(ctx)) continue;
    rows.push(row);
    ctxs.push(ctx);
  }
  return { rows, ctxs, parentMatters: PARENT_MATTERS.has(flatKey(key)) };
}

function rowsFor(key: string, parentKey: string, inList: boolean): KeyRows {
  const byKey = keyRows[inList ? 1 : 0];
  let own = byKey.get(key);
  if (!own) own = remember(byKey, key, buildRows(key, '', inList));
  if (!parentKey || !own.parentMatters) return own;
  const both = `${key}\u0000${parentKey}`;
  return byKey.get(both) ?? remember(byKey, both, buildRows(key, parentKey, inList));
}

function remember(byKey: Map<string, KeyRows>, cacheKey: string, entry: KeyRows): KeyRows {
  if (byKey.size > 10_000) byKey.clear();
  byKey.set(cacheKey, entry);
  return entry;
}

/** `ifa:38400000-…`, `imei=8651…`: a telling word that opens the value stands for its key. */
const PREFIXED = /^([A-Za-z][A-Za-z0-9_]{1,15})[:=](?=[^\s:=])/;

/** `separator`: where the first `:` or `=` of `text` is (see `TextTraits`). */
function prefixOf(text: string, separator: number): RegExpExecArray | undefined {
  // the word before the separator is 2 to 16 characters long, and holds neither
  if (text.length < 8 || separator < 2 || separator > 16) return undefined;
  // a word of up to 16 letters, digits and _, then : or = (checked by hand before the regex runs)
  let i = 0;
  for (; i < 17 && i < text.length; i++) {
    const c = text.charCodeAt(i) | 0x20;
    if (!((c >= 97 && c <= 122) || (i > 0 && ((c >= 48 && c <= 57) || c === 0x7f)))) break; // _ | 0x20 = DEL
  }
  const sep = text.charCodeAt(i);
  if (i < 2 || (sep !== 0x3a && sep !== 0x3d)) return undefined;
  const m = PREFIXED.exec(text);
  return m && keyHasAny(m[1], VALUE_PREFIXES) ? m : undefined;
}

/** What most segments hold: one list for all of them, not a new one each. */
const NO_HITS: readonly PatternHit[] = [];

const overlaps = (spans: readonly Span[], start: number, end: number) => spans.some((k) => k.start < end && start < k.end);

/**
 * Pattern hits of one segment; candidates inside `known` spans are skipped before they are validated.
 * With `holdWeak`, a candidate that could only make a weak hit (a row's `weakUnlessTelling`, without a telling
 * key) is returned unvalidated, weak and `unconfirmed`: validating (a phone number's is costly) can wait until
 * the caller knows it has enough siblings to matter.
 */
export function patternHits(segment: Segment, known: readonly Span[] = [], holdWeak = false, budget = new ScanBudget(), measured = traitsOf(segment.text)): readonly PatternHit[] {
  // Nothing any row looks for can be in a segment without a digit or an @.
  if (measured.digitRun === 0 && !measured.at) return NO_HITS;
  const hits: PatternHit[] = [];
  const prefix = prefixOf(segment.text, measured.firstColonOrEquals);
  if (prefix) {
    const offset = prefix[0].length;
    const rest = segment.text.slice(offset);
    if (textTraits(rest, traits)) rowHits(rest, offset, rowsFor(prefix[1], '', segment.inList), traits, known, holdWeak, budget, hits);
    return hits;
  }
  rowHits(segment.text, 0, rowsFor(segment.key, segment.parentKey, segment.inList), measured, known, holdWeak, budget, hits);
  return hits;
}

/** The hits of the rows for a key in `text` (which starts `offset` into the segment), with its traits. */
function rowHits(text: string, offset: number, { rows, ctxs }: KeyRows, measured: TextTraits, known: readonly Span[], holdWeak: boolean, budget: ScanBudget, hits: PatternHit[]): void {
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    const ctx = ctxs[r];
    if (row.worthALook && !row.worthALook(text, ctx, measured)) continue;
    // exec on the row's own regex, not matchAll: that clones the regex on every call.
    const candidates = row.candidates;
    candidates.lastIndex = 0;
    for (let m = candidates.exec(text); m !== null; m = candidates.exec(text)) {
      if (m[0].length === 0) candidates.lastIndex++; // as matchAll steps past an empty match (none match empty)
      const start = offset + m.index;
      const end = start + m[0].length;
      if (known.length > 0 && overlaps(known, start, end)) continue;
      if (holdWeak && row.weakUnlessTelling && !ctx.telling) {
        hits.push({ type: row.type, start, end, value: m[0], weak: true, unconfirmed: { row, ctx } });
        continue;
      }
      const accepted = row.accept(m[0], ctx, budget);
      if (accepted === undefined) continue;
      const hit = typeof accepted === 'string' ? { value: accepted } : accepted;
      hits.push({ type: row.type, start, end, ...hit });
    }
  }
}

/** What `patternHits` would have returned, without `holdWeak`, for a held-back candidate; undefined: nothing. */
export function confirmHit(held: PatternHit, budget = new ScanBudget()): PatternHit | undefined {
  if (!held.unconfirmed) return held;
  const accepted = held.unconfirmed.row.accept(held.value, held.unconfirmed.ctx, budget);
  if (accepted === undefined) return undefined;
  const hit = typeof accepted === 'string' ? { value: accepted } : accepted;
  return { type: held.type, start: held.start, end: held.end, ...hit };
}
