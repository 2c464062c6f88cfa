// The filter language's PostgreSQL pieces (./sql.ts compiles the rest the same for both stores). Text operators
// read `flow_text` (and `flow_text_pending`, its unindexed antechamber), one row per flow holding what SQLite's FTS5 table holds, searched with ILIKE: pg_trgm's GIN
// indexes (contrib, in Debian's postgresql-15) answer a needle of three characters or more from the index, a
// shorter one by scanning, which is SQLite's behaviour too. Full-text search (tsvector) would not do: it finds
// words, and a leak hides inside a token (`imei=865…`, base64, a hash).
import { escapeLike, FilterUnsupported, TEXT_COLUMNS, type SqlCondition, type SqlDialect } from './sql';

const ilike = (column: string, pattern: string): SqlCondition => ({ sql: `${column} ILIKE ? ESCAPE '\\'`, params: [pattern] });

export const PG_DIALECT: SqlDialect = {
  text(parts, needle) {
    const pattern = `%${escapeLike(needle)}%`;
    const columns = parts.map((p) => ilike(TEXT_COLUMNS[p], pattern));
    const where = columns.map((c) => c.sql).join(' OR ');
    // A flow's text is in flow_text or, until it is moved there, flow_text_pending (pg-migrate.ts, migration 5):
    // one statement, one snapshot, so a move is seen whole or not at all.
    return {
      sql: `id IN (SELECT flow_id FROM flow_text WHERE ${where} UNION ALL SELECT flow_id FROM flow_text_pending WHERE ${where})`,
      params: [...columns.flatMap((c) => c.params), ...columns.flatMap((c) => c.params)],
    };
  },
  contains: ilike,
  encoding: (arg) => ({
    sql: `EXISTS (SELECT 1 FROM json_array_elements(flows.summary->'findings') j WHERE j->>'encoding' = ?
             OR '+' || (j->>'encoding') || '+' LIKE ? ESCAPE '\\')`,
    params: [arg, `%+${escapeLike(arg)}+%`],
  }),
  country: "(flows.summary->'destination'->>'country')",
  org: "(flows.summary->'destination'->>'org')",
  marked() {
    throw new FilterUnsupported('marked', 'marks live in each instance\'s own store (its dashboard), not in the shared one');
  },
};

/** `?` placeholders numbered as PostgreSQL's `$n`, from `$first`. Our SQL has no other question marks. */
export function numbered(sql: string, first = 1): string {
  let n = first - 1;
  return sql.replace(/\?/g, () => `$${++n}`);
}
