// A filter expression compiled to a WHERE condition over the store's `flows` table. Text operators use the FTS5
// trigram index `flow_text` (substring matches, case-insensitive); a needle under three characters has no
// trigram and is looked for by scanning. The meaning is ./match.ts's.
import type { FilterExpr } from '../../shared/filter';
import { TEXT_PARTS, type FlowText } from './flow-text';

export interface SqlCondition {
  sql: string;
  params: unknown[];
}

/** flow_text's column for each part of a flow's text. */
export const FTS_COLUMNS: Record<keyof FlowText, string> = {
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

const like = (column: string) => `${column} LIKE ? ESCAPE '\\'`;

function textCondition(parts: readonly (keyof FlowText)[], needle: string): SqlCondition {
  const columns = parts.map((p) => FTS_COLUMNS[p]);
  if ([...needle].length >= 3) {
    const query = `{${columns.join(' ')}} : "${needle.replace(/"/g, '""')}"`;
    return { sql: 'id IN (SELECT rowid FROM flow_text WHERE flow_text MATCH ?)', params: [query] };
  }
  const lowered = needle.toLowerCase();
  return {
    sql: `id IN (SELECT rowid FROM flow_text WHERE ${columns.map((c) => `instr(lower(${c}), ?) > 0`).join(' OR ')})`,
    params: columns.map(() => lowered),
  };
}

function findingCondition(sql: string, params: unknown[]): SqlCondition {
  return { sql: `id IN (SELECT flow_id FROM findings WHERE ${sql})`, params };
}

export function filterSql(expr: FilterExpr): SqlCondition {
  switch (expr.kind) {
    case 'not': {
      const inner = filterSql(expr.expr);
      return { sql: `NOT (${inner.sql})`, params: inner.params };
    }
    case 'and':
    case 'or': {
      const l = filterSql(expr.left);
      const r = filterSql(expr.right);
      return { sql: `(${l.sql} ${expr.kind.toUpperCase()} ${r.sql})`, params: [...l.params, ...r.params] };
    }
    case 'text':
      return textCondition(TEXT_PARTS.text, expr.text);
  }
  const arg = expr.arg.toLowerCase();
  const contains = `%${escapeLike(arg)}%`;
  switch (expr.op) {
    case 'u':
    case 'h':
    case 'b':
    case 'bq':
    case 'bs':
      return textCondition(TEXT_PARTS[expr.op], arg);
    case 'd':
      return { sql: like('host'), params: [contains] };
    case 'm':
      return { sql: 'lower(method) = ?', params: [arg] };
    case 'c':
      return { sql: 'status = ?', params: [Number(arg)] };
    case 't':
      return findingCondition('type = ?', [arg]);
    case 'conf':
      return findingCondition('confidence = ?', [arg]);
    case 'enc':
      return findingCondition(`(encoding = ? OR '+' || encoding || '+' LIKE ? ESCAPE '\\')`, [arg, `%+${escapeLike(arg)}+%`]);
    case 'cc':
      return { sql: 'lower(country) = ?', params: [arg] };
    case 'org':
      return { sql: like('org'), params: [contains] };
    case 'dev':
      return { sql: `(${like('device')} OR ${like('client')} OR id IN (SELECT flow_id FROM findings WHERE ${like('device')}))`, params: [contains, contains, contains] };
    case 'session':
      return { sql: 'session_id IN (SELECT id FROM sessions WHERE name = ? COLLATE NOCASE OR CAST(id AS TEXT) = ?)', params: [arg, arg] };
    case 'marked':
      return { sql: 'marked = 1', params: [] };
  }
}
