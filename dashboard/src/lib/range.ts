// The time range brushed on the timeline (or typed beside it): flows that started in [from, to), in ms since 1970.
// It narrows the feed, the matrix and the export alike, as `from` and `to` query parameters.
import { formatDateTime } from './format';

export interface TimeRange {
  from: number;
  to: number;
}

/** `from=…&to=…` for the API ('' without a range). */
export function rangeQuery(range: TimeRange | undefined): string {
  return range ? `from=${range.from}&to=${range.to}` : '';
}

/** A time as the range fields show it: local, `2026-12-01 14:03:22`. */
export const formatRangeTime = formatDateTime;

/** A local `YYYY-MM-DD HH:MM[:SS]` (what the range fields take), or undefined when it is not one. */
export function parseRangeTime(text: string): number | undefined {
  const m = /^\s*(\d{4})-(\d{2})-(\d{2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?\s*$/.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map((x) => Number(x ?? 0));
  const date = new Date(y, mo - 1, d, h, mi, s);
  // Date rolls 2026-02-31 over into March: a date that is not one comes back changed.
  return date.getMonth() === mo - 1 && date.getDate() === d && h < 24 && mi < 60 && s < 60 ? date.getTime() : undefined;
}
