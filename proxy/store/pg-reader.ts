// The read side of a lab's shared store (FlowReader over PostgreSQL), for `leakscope dashboard --store …`. A flow's
// id here is its `seq`, the store-wide commit order (pg-migrate.ts, migration 2): the ids the feed pages and
// resumes by, over every instance.
import type pg from 'pg';
import type { DeviceInfo } from '../../shared/api';
import type { Marker, SessionInfo } from '../../shared/audit';
import type { Flow, FlowSummary, SummaryRow } from '../../shared/types';
import { numbered, PG_DIALECT } from '../filter/pg-sql';
import type { FlowReader } from './flow-reader';
import { flowQuerySql, type FlowQuery, type QueryDialect, type ScopeQuery } from './flow-query';
import { openPool } from './pg-store';
import { unknownSession, type SessionRef } from './session-log';

const DIALECT: QueryDialect = {
  ...PG_DIALECT,
  key: 'seq',
  flagged: 'flagged',
  tracker: "(summary->'tracker'->>'slug')",
  instance: 'instance',
  among: (ids) => ({ sql: 'seq = ANY(?::bigint[])', params: [ids] }),
};

const PAGE = 200;

/** `scope` as conditions on flows `f`, from placeholder `$first`. */
function scopeSql(scope: ScopeQuery, first = 1): { sql: string; params: unknown[] } {
  const clauses: string[] = [];
  const params: unknown[] = [];
  if (scope.session !== undefined) (params.push(scope.session), clauses.push(`f.session_id = $${first + params.length - 1}`));
  if (scope.instance !== undefined) (params.push(scope.instance), clauses.push(`f.instance = $${first + params.length - 1}`));
  return { sql: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

function dropNulls<T>(row: Record<string, unknown>): T {
  return Object.fromEntries(Object.entries(row).filter(([, v]) => v !== null)) as T;
}

export class PgFlowReader implements FlowReader {
  constructor(private readonly pool: pg.Pool) {}

  static async open(url: string): Promise<PgFlowReader> {
    return new PgFlowReader(await openPool(url));
  }

  private async select<T extends object>(columns: string, q: FlowQuery, tail: string): Promise<T[]> {
    const where = flowQuerySql(q, DIALECT);
    const { rows } = await this.pool.query<T>(`SELECT ${columns} FROM flows ${numbered(where.sql)} ${tail}`, where.params);
    return rows;
  }

  async summaries(q: FlowQuery): Promise<FlowSummary[]> {
    const order = q.after !== undefined ? 'ASC' : 'DESC';
    const limit = Math.min(Math.max(q.limit ?? 200, 1), 5000);
    const rows = await this.select<{ seq: string; summary: FlowSummary }>('seq, summary', q, `ORDER BY seq ${order} LIMIT ${limit}`);
    return rows.map((r) => ({ ...r.summary, id: Number(r.seq) }));
  }

  async get(id: number): Promise<Flow | undefined> {
    const [row] = await this.select<{ seq: string; flow: Flow }>('seq, flow', { ids: [id] }, '');
    return row ? { ...row.flow, id: Number(row.seq) } : undefined;
  }

  async *flows(q: FlowQuery): AsyncIterable<Flow> {
    // In pages by seq, not one cursor: an export may take long, and holds no transaction open meanwhile.
    for (let after = q.after ?? 0; ; ) {
      const rows = await this.select<{ seq: string; flow: Flow }>('seq, flow', { ...q, after }, `ORDER BY seq ASC LIMIT ${PAGE}`);
      for (const row of rows) yield { ...row.flow, id: Number(row.seq) };
      if (rows.length < PAGE) return;
      after = Number(rows[rows.length - 1].seq);
    }
  }

  /** As the SQLite store's: with a time range the counts and times are the range's, `firstEver` the pair's first. */
  async summary(scope: ScopeQuery): Promise<SummaryRow[]> {
    const where = scopeSql(scope);
    const params = [...where.params];
    const bounds: string[] = [];
    if (scope.from !== undefined) (params.push(scope.from), bounds.push(`x.time >= $${params.length}`));
    if (scope.to !== undefined) (params.push(scope.to), bounds.push(`x.time < $${params.length}`));
    const inRange = (aggregate: string) => `(${aggregate}${bounds.length ? ` FILTER (WHERE ${bounds.join(' AND ')})` : ''})`;
    const { rows } = await this.pool.query(
      `SELECT x.host, MAX(x.domain) AS domain, MAX(x.country) AS country, MAX(x.org) AS org, x.type, x.device,
              ${inRange('COUNT(DISTINCT x.flow_id)')}::int AS count, ${inRange('MIN(x.time)')}::float8 AS "firstSeen",
              ${inRange('MAX(x.time)')}::float8 AS "lastSeen", MAX(x.tracker) AS tracker, MAX(x.tracker_name) AS "trackerName",
              array_agg(DISTINCT x.encoding) FILTER (WHERE x.encoding IS NOT NULL${bounds.length ? ` AND ${bounds.join(' AND ')}` : ''}) AS encodings
              ${bounds.length ? ', MIN(x.time)::float8 AS "firstEver"' : ''}
       FROM findings x JOIN flows f ON f.id = x.flow_id ${where.sql}
       GROUP BY x.host, x.type, x.device ${bounds.length ? `HAVING ${inRange('COUNT(DISTINCT x.flow_id)')} > 0` : ''}
       ORDER BY MAX(x.domain), x.host, x.type`,
      params,
    );
    // Sorted here, as SQLite's are: the same order whatever the database's collation.
    return rows.map((r) => ({ ...dropNulls<SummaryRow>(r), encodings: ((r.encodings as string[] | null) ?? []).sort() }));
  }

  /** One device per instance and client address: two racks' 192.168.1.23 are two phones. */
  async devices(scope: ScopeQuery): Promise<DeviceInfo[]> {
    const where = scopeSql(scope);
    const { rows } = await this.pool.query(
      `SELECT f.instance, f.client, MAX(f.device) AS name, COUNT(*)::int AS flows, COUNT(*) FILTER (WHERE f.flagged)::int AS flagged,
              coalesce(SUM(c.n), 0)::int AS findings, MIN(f.start)::float8 AS "firstSeen", MAX(f.start)::float8 AS "lastSeen"
       FROM flows f LEFT JOIN LATERAL (SELECT COUNT(DISTINCT (x.type, x.value, x.device)) AS n FROM findings x WHERE x.flow_id = f.id) c ON true
       ${where.sql} GROUP BY f.instance, f.client ORDER BY "lastSeen" DESC`,
      where.params,
    );
    return rows.map((r) => dropNulls<DeviceInfo>(r));
  }

  async count(): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>('SELECT COUNT(*)::float8 AS n FROM flows');
    return rows[0].n;
  }

  async sessions(): Promise<SessionInfo[]> {
    const [sessions, markers] = await Promise.all([
      this.pool.query(
        `SELECT s.id::float8 AS id, s.name, s.started::float8 AS started, s.ended::float8 AS ended, COUNT(f.id)::int AS flows,
                COUNT(f.id) FILTER (WHERE f.flagged)::int AS flagged, MIN(f.start)::float8 AS "firstFlow", MAX(f.start)::float8 AS "lastFlow"
         FROM sessions s LEFT JOIN flows f ON f.session_id = s.id GROUP BY s.id ORDER BY s.id`,
      ),
      this.pool.query<Marker>('SELECT id::float8 AS id, session_id::float8 AS session, time::float8 AS time, text FROM markers ORDER BY time, id'),
    ]);
    return sessions.rows.map((r) => ({
      ...dropNulls<Omit<SessionInfo, 'current' | 'markers'>>(r),
      // Each instance has its own current session; the store has none.
      current: false,
      markers: markers.rows.filter((m) => m.session === r.id),
    }));
  }

  async session(ref: string): Promise<SessionRef> {
    const byId = /^\d+$/.test(ref) ? ref : null;
    const { rows } = await this.pool.query<{ id: number; name: string }>(
      'SELECT id::float8 AS id, name FROM sessions WHERE name = $1 OR id = $2::bigint ORDER BY (name = $1) DESC LIMIT 1',
      [ref, byId],
    );
    if (rows[0]) return rows[0];
    const names = (await this.pool.query<{ name: string }>('SELECT name FROM sessions ORDER BY id')).rows.map((r) => r.name);
    throw unknownSession(ref, names);
  }

  async instances(): Promise<string[]> {
    // A loose index scan: one probe of flows_instance per instance, however many flows each has.
    const { rows } = await this.pool.query<{ instance: string }>(
      `WITH RECURSIVE i AS (SELECT MIN(instance) AS instance FROM flows
                            UNION ALL SELECT (SELECT MIN(instance) FROM flows WHERE instance > i.instance) FROM i WHERE i.instance IS NOT NULL)
       SELECT instance FROM i WHERE instance IS NOT NULL`,
    );
    return rows.map((r) => r.instance);
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}
