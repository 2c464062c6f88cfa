// The timeline over the feed, counted in SQL: flows per bucket of time and the flagged ones by type, so the
// dashboard draws a day of 100,000 flows from a few hundred rows instead of the flows themselves.
import type Database from 'better-sqlite3';
import type { TimelineBucket, TimelineResponse } from '../../shared/api';
import type { IdentifierType } from '../../shared/types';

/** Most buckets a timeline is cut into: about two pixels each across a laptop's feed. */
export const MAX_TIMELINE_BUCKETS = 600;

const MINUTE = 60_000;
/** Bucket sizes in minutes, from a minute (the default) up to a day; past that, whole days. */
const STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440];

/** The smallest step that cuts [first, last] into at most MAX_TIMELINE_BUCKETS buckets. */
export function bucketFor(first: number, last: number): number {
  const span = last - first + 1;
  for (const minutes of STEPS) if (span / (minutes * MINUTE) <= MAX_TIMELINE_BUCKETS) return minutes * MINUTE;
  return Math.ceil(span / (MAX_TIMELINE_BUCKETS * 1440 * MINUTE)) * 1440 * MINUTE;
}

/**
 * `where` is a WHERE clause over `flows` (FlowStore's, with its parameters). One pass counts per minute and first
 * finding's type (flows_start holds both); minutes are then merged into the bucket the span needs, since every
 * bucket is a whole number of minutes from 1970.
 */
export function timelineOf(db: Database.Database, where: string, params: unknown[]): TimelineResponse {
  const lastId = (db.prepare('SELECT MAX(id) AS id FROM flows').get() as { id: number | null }).id ?? 0;
  const rows = db
    .prepare(`SELECT start / ${MINUTE} AS minute, first_type AS type, COUNT(*) AS n FROM flows ${where} GROUP BY 1, 2 ORDER BY 1`)
    .all(...params) as { minute: number; type: IdentifierType | null; n: number }[];
  if (rows.length === 0) return { bucketMs: MINUTE, buckets: [], lastId };
  const bucketMs = bucketFor(rows[0].minute * MINUTE, rows[rows.length - 1].minute * MINUTE);
  const buckets: TimelineBucket[] = [];
  for (const row of rows) {
    const start = Math.floor((row.minute * MINUTE) / bucketMs) * bucketMs;
    let bucket = buckets.at(-1);
    if (bucket?.start !== start) buckets.push((bucket = { start, flows: 0, flagged: 0, types: {} }));
    bucket.flows += row.n;
    if (row.type !== null) {
      bucket.flagged += row.n;
      bucket.types[row.type] = (bucket.types[row.type] ?? 0) + row.n;
    }
  }
  return { bucketMs, buckets, lastId };
}
