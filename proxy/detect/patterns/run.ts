// Runs the pattern table over one decoded segment.
import type { IdentifierType } from '../../../shared/types';
import type { Segment } from '../segment';
import { keyHasAny, NOT_AN_IDENTIFIER } from './keys';
import { PATTERN_DETECTORS } from './table';

export interface PatternHit {
  type: IdentifierType;
  value: string;
  start: number;
  end: number;
  part?: 'lat' | 'lon';
  weak?: boolean;
}

/** Nothing any row looks for can be in a segment without a digit or an @. */
const WORTH_A_LOOK = /[0-9@]/;

export function patternHits(segment: Segment): PatternHit[] {
  const hits: PatternHit[] = [];
  if (!WORTH_A_LOOK.test(segment.text)) return hits;
  const negative = keyHasAny(segment.key, NOT_AN_IDENTIFIER);
  for (const row of PATTERN_DETECTORS) {
    const ctx = { key: segment.key, inList: segment.inList, telling: keyHasAny(segment.key, row.tellingKeys), negative };
    if (!row.worthALook(segment.text, ctx)) continue;
    for (const m of segment.text.matchAll(row.candidates)) {
      const accepted = row.accept(m[0], ctx);
      if (accepted === undefined) continue;
      const hit = typeof accepted === 'string' ? { value: accepted } : accepted;
      hits.push({ type: row.type, start: m.index, end: m.index + m[0].length, ...hit });
    }
  }
  return hits;
}
