// Which flows a query asks for, and its WHERE clause in either store's SQL (`?` placeholders).
import type { FilterExpr } from '../../shared/filter';
import { escapeLike, filterSql, type SqlCondition, type SqlDialect } from '../filter/sql';

export interface FlowQuery {
  flagged?: boolean;
  limit?: number;
  /** ids are a store's order: SQLite's rowid, the shared store's commit order (seq) */
  after?: number;
  before?: number;
  device?: string;
  type?: string;
  host?: string;
  confidence?: string;
  /** slug of the tracker the flow went to */
  tracker?: string;
  q?: string;
  ids?: number[];
  /** session id */
  session?: number;
  /** the instance that captured it (a lab's shared store) */
  instance?: string;
  /** a parsed filter expression (shared/filter.ts) */
  filter?: FilterExpr;
  /** flows that started at or after this time (ms since 1970) */
  from?: number;
  /** flows that started before this time */
  to?: number;
}

/** Which flows a summary, device list or leak grouping covers. */
export interface ScopeQuery {
  session?: number;
  /** a device name or client address */
  device?: string;
  /** the instance that captured them */
  instance?: string;
  /** the summary only: flows that started in [from, to) */
  from?: number;
  to?: number;
}

/** What the flows table calls things in each store, besides the filter language's pieces. */
export interface QueryDialect extends SqlDialect {
  /** the column flows are ordered and addressed by */
  key: string;
  flagged: string;
  tracker: string;
  instance: string;
  /** `key` is one of `ids` */
  among(ids: number[]): SqlCondition;
}

/**
 * The WHERE clause (empty when nothing narrows) and its parameters. `sessionByTime`: the session is checked on
 * each row met (`+session_id`, no index) so that a scan by time reads one index alone (SQLite's timeline).
 */
export function flowQuerySql(q: FlowQuery, dialect: QueryDialect, opts: { sessionByTime?: boolean } = {}): SqlCondition {
  const conditions: SqlCondition[] = [];
  const add = (sql: string, ...params: unknown[]) => conditions.push({ sql, params });
  if (q.flagged) add(dialect.flagged);
  if (q.after !== undefined) add(`${dialect.key} > ?`, q.after);
  if (q.before !== undefined) add(`${dialect.key} < ?`, q.before);
  if (q.device) add('(device = ? OR client = ?)', q.device, q.device);
  if (q.host) conditions.push(dialect.contains('host', `%${escapeLike(q.host)}%`));
  if (q.q) conditions.push(dialect.contains('url', `%${escapeLike(q.q)}%`));
  if (q.tracker) add(`${dialect.tracker} = ?`, q.tracker);
  if (q.ids) conditions.push(dialect.among(q.ids));
  if (q.session !== undefined) add(opts.sessionByTime ? '+session_id = ?' : 'session_id = ?', q.session);
  if (q.from !== undefined) add('start >= ?', q.from);
  if (q.to !== undefined) add('start < ?', q.to);
  if (q.instance !== undefined) add(`${dialect.instance} = ?`, q.instance);
  if (q.filter) conditions.push(filterSql(q.filter, dialect));
  if (q.type || q.confidence) {
    const sub: string[] = [];
    const params: unknown[] = [];
    if (q.type) (sub.push('type = ?'), params.push(q.type));
    if (q.confidence) (sub.push('confidence = ?'), params.push(q.confidence));
    add(`id IN (SELECT flow_id FROM findings WHERE ${sub.join(' AND ')})`, ...params);
  }
  return {
    sql: conditions.length ? `WHERE ${conditions.map((c) => c.sql).join(' AND ')}` : '',
    params: conditions.flatMap((c) => c.params),
  };
}
