// A filter expression compiled to a WHERE condition over a store's `flows` table, with `?` placeholders. The two
// stores differ only in a few pieces (a SqlDialect): SQLite's text operators use the FTS5 trigram index
// `flow_text` (substring matches, case-insensitive; a needle under three characters is looked for by scanning);
// PostgreSQL's are in ./pg-sql.ts. The meaning is ./match.ts's.
import type { FilterExpr, FilterOperator } from '../../shared/filter';
import { TEXT_PARTS, type FlowText } from './flow-text';

export interface SqlCondition {
  sql: string;
  params: unknown[];
}

/** What a store's SQL says its own way; everything else in a filter compiles the same for both. */
export interface SqlDialect {
  /** the flows whose text `parts` contain `needle` (lowercased), case-insensitively */
  text(parts: readonly (keyof FlowText)[], needle: string): SqlCondition;
  /** `column` contains the lowercased `pattern` (a LIKE pattern, escaped with backslash), case-insensitively */
  contains(column: string, pattern: string): SqlCondition;
  /** a finding of the flow was encoded `arg`, or `arg` is one step of its encoding chain */
  encoding(arg: string): SqlCondition;
  /** the destination's country and owner */
  country: string;
  org: string;
  /** an operator this store cannot answer: throws FilterUnsupported */
  marked(): SqlCondition;
}

/** An operator the store cannot answer (answered 400, never a wrong result). */
export class FilterUnsupported extends Error {
  override name = 'FilterUnsupported';
  constructor(
    readonly op: FilterOperator,
    reason: string,
  ) {
    super(`~${op}: ${reason}`);
  }
}

/** flow_text's column for each part of a flow's text (both stores name them so). */
export const TEXT_COLUMNS: Record<keyof FlowText, string> = {
  url: 'url',
  reqHeaders: 'req_headers',
  resHeaders: 'res_headers',
  reqBody: 'req_body',
  resBody: 'res_body',
};

/** `s` as a literal inside a LIKE pattern with ESCAPE '\\'. */
export function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => '\\' + c);
}

export const SQLITE_DIALECT: SqlDialect = {
  text(parts, needle) {
    const columns = parts.map((p) => TEXT_COLUMNS[p]);
    if ([...needle].length >= 3) {
      const query = `{${columns.join(' ')}} : "${needle.replace(/"/g, '""')}"`;
      return { sql: 'id IN (SELECT rowid FROM flow_text WHERE flow_text MATCH ?)', params: [query] };
    }
    return {
      sql: `id IN (SELECT rowid FROM flow_text WHERE ${columns.map((c) => `instr(lower(${c}), ?) > 0`).join(' OR ')})`,
      params: columns.map(() => needle),
    };
  },
  // SQLite's LIKE ignores ASCII case
  contains: (column, pattern) => ({ sql: `${column} LIKE ? ESCAPE '\\'`, params: [pattern] }),
  // findings has a row per type, value, device and encoding
  encoding: (arg) => ({
    sql: `id IN (SELECT flow_id FROM findings WHERE encoding = ? OR '+' || encoding || '+' LIKE ? ESCAPE '\\')`,
    params: [arg, `%+${escapeLike(arg)}+%`],
  }),
  country: 'country',
  org: 'org',
  marked: () => ({ sql: 'marked = 1', params: [] }),
};

function findingCondition(sql: string, params: unknown[]): SqlCondition {
  return { sql: `id IN (SELECT flow_id FROM findings WHERE ${sql})`, params };
}

function or(...conditions: SqlCondition[]): SqlCondition {
  return { sql: `(${conditions.map((c) => c.sql).join(' OR ')})`, params: conditions.flatMap((c) => c.params) };
}

export function filterSql(expr: FilterExpr, dialect: SqlDialect = SQLITE_DIALECT): SqlCondition {
  switch (expr.kind) {
    case 'not': {
      const inner = filterSql(expr.expr, dialect);
      return { sql: `NOT (${inner.sql})`, params: inner.params };
    }
    case 'and':
    case 'or': {
      const l = filterSql(expr.left, dialect);
      const r = filterSql(expr.right, dialect);
      return { sql: `(${l.sql} ${expr.kind.toUpperCase()} ${r.sql})`, params: [...l.params, ...r.params] };
    }
    case 'text':
      return dialect.text(TEXT_PARTS.text, expr.text.toLowerCase());
  }
  const arg = expr.arg.toLowerCase();
  const contains = `%${escapeLike(arg)}%`;
  switch (expr.op) {
    case 'u':
    case 'h':
    case 'b':
    case 'bq':
    case 'bs':
      return dialect.text(TEXT_PARTS[expr.op], arg);
    case 'd':
      return dialect.contains('host', contains);
    case 'm':
      return { sql: 'lower(method) = ?', params: [arg] };
    case 'c':
      return { sql: 'status = ?', params: [Number(arg)] };
    case 't':
      return findingCondition('type = ?', [arg]);
    case 'conf':
      return findingCondition('confidence = ?', [arg]);
    case 'enc':
      return dialect.encoding(arg);
    case 'cc':
      return { sql: `lower(${dialect.country}) = ?`, params: [arg] };
    case 'org':
      return dialect.contains(dialect.org, contains);
    case 'dev': {
      const inFindings = dialect.contains('device', contains);
      return or(dialect.contains('device', contains), dialect.contains('client', contains), findingCondition(inFindings.sql, inFindings.params));
    }
    case 'session':
      // lower() on both sides: SQLite's and PostgreSQL's case rules for ASCII names agree
      return { sql: 'session_id IN (SELECT id FROM sessions WHERE lower(name) = ? OR CAST(id AS TEXT) = ?)', params: [arg, arg] };
    case 'marked':
      return dialect.marked();
  }
}
