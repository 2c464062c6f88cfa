// Flows on disk: one SQLite file in the data dir (WAL), small transactions (the flows completed in one turn
// of the event loop), so a `kill -9` loses nothing whose response had completed.
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import type { TimelineResponse } from '../../shared/api';
import type { DestinationUse, LeakGroup, SessionLeaks } from '../../shared/audit';
import type { Flow, FlowSummary, SummaryRow } from '../../shared/types';
import { summarize } from '../../shared/types';
import { SQLITE_DIALECT } from '../filter/sql';
import { flowQuerySql, type FlowQuery, type QueryDialect, type ScopeQuery } from './flow-query';
import { FlowTextIndex } from './flow-text-index';
import { findingWriter } from './finding-rows';
import { migrate } from './migrate';
import { timelineOf } from './timeline';
import { SessionLog } from './session-log';
import { SharedOutbox } from './shared-outbox';

export type { FlowQuery, ScopeQuery } from './flow-query';

/** SQLite's flows table: ordered by rowid; the summary's JSON holds the tracker and the instance. */
const DIALECT: QueryDialect = {
  ...SQLITE_DIALECT,
  key: 'id',
  flagged: 'flagged = 1',
  tracker: "json_extract(summary, '$.tracker.slug')",
  // what the flow's JSON says (absent on flows from before instances); an instance's reader narrows by its own name
  instance: "json_extract(summary, '$.instance')",
  among: (ids) => ({ sql: `id IN (${ids.map(() => '?').join(',') || 'NULL'})`, params: ids }),
};

const SCHEMA = `
CREATE TABLE IF NOT EXISTS flows (
  id INTEGER PRIMARY KEY,
  start INTEGER NOT NULL,
  client TEXT NOT NULL,
  device TEXT,
  method TEXT NOT NULL,
  host TEXT NOT NULL,
  url TEXT NOT NULL,
  status INTEGER,
  flagged INTEGER NOT NULL,
  summary TEXT NOT NULL,
  flow TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS flows_flagged ON flows(flagged, id);
CREATE TABLE IF NOT EXISTS findings (
  flow_id INTEGER NOT NULL REFERENCES flows(id),
  type TEXT NOT NULL,
  value TEXT NOT NULL,
  confidence TEXT NOT NULL,
  device TEXT,
  host TEXT NOT NULL,
  domain TEXT NOT NULL,
  country TEXT,
  org TEXT,
  time INTEGER NOT NULL,
  tracker TEXT,
  tracker_name TEXT
);
CREATE INDEX IF NOT EXISTS findings_flow ON findings(flow_id);
CREATE INDEX IF NOT EXISTS findings_type ON findings(type, flow_id);
CREATE TABLE IF NOT EXISTS device_names (client TEXT PRIMARY KEY, name TEXT NOT NULL);
`;

export class FlowStore {
  private readonly db: Database.Database;
  private readonly insertFlow: Database.Statement;
  private readonly addFlow: (flow: Omit<Flow, 'id'>) => Flow;
  private readonly addFlows: (flows: Omit<Flow, 'id'>[]) => Flow[];
  private readonly replaceFlow: (flow: Flow) => void;
  private readonly textIndex: FlowTextIndex;
  private queue: { draft: Omit<Flow, 'id'>; resolve: (flow: Flow) => void; reject: (err: Error) => void }[] = [];
  private readonly names: Map<string, string>;
  private readonly renameListeners: ((client: string, name: string) => void)[] = [];
  readonly sessions: SessionLog;
  /** with `outbox`: the flows a lab's shared store has yet to get */
  readonly outbox: SharedOutbox | undefined;

  /** `outbox`: every flow stored is also queued for a lab's shared store (start --store) */
  constructor(dataDir: string, opts: { outbox?: boolean } = {}) {
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    this.db = new Database(path.join(dataDir, 'flows.db'));
    this.db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode survives a process crash (kill -9); only a power cut can lose the last commits.
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(SCHEMA);
    // Before the migrations: one of them rewrites finding rows, tracker columns included.
    addTrackerColumns(this.db);
    migrate(this.db);
    this.sessions = new SessionLog(this.db);
    this.outbox = opts.outbox ? new SharedOutbox(this.db) : undefined;
    // Asked for every request: kept in memory, written through on rename.
    const rows = this.db.prepare('SELECT client, name FROM device_names').all() as { client: string; name: string }[];
    this.names = new Map(rows.map((r) => [r.client, r.name]));
    this.insertFlow = this.db.prepare(
      `INSERT INTO flows (start, client, device, method, host, url, status, flagged, first_type, country, org, summary, flow, session_id)
       VALUES (@start, @client, @device, @method, @host, @url, @status, @flagged, @first_type, @country, @org, '', '', @session)`,
    );
    const setJson = this.db.prepare('UPDATE flows SET summary = ?, flow = ? WHERE id = ?');
    const columns = (draft: Omit<Flow, 'id'>) => ({
      start: draft.timings.start,
      client: draft.client,
      device: draft.device ?? null,
      method: draft.method,
      host: draft.host,
      url: draft.url,
      status: draft.status ?? null,
      flagged: draft.findings.length > 0 ? 1 : 0,
      first_type: draft.findings[0]?.type ?? null,
      country: draft.destination?.country ?? null,
      org: draft.destination?.org ?? null,
    });
    this.textIndex = new FlowTextIndex(this.db, dataDir);
    this.textIndex.catchUp();
    const indexText = (id: number, flow: Flow) => this.textIndex.add(id, flow);
    const updateFlow = this.db.prepare(
      `UPDATE flows SET start = @start, client = @client, device = @device, method = @method, host = @host, url = @url,
       status = @status, flagged = @flagged, first_type = @first_type, country = @country, org = @org WHERE id = @id`,
    );
    const deleteFindings = this.db.prepare('DELETE FROM findings WHERE flow_id = ?');
    const writeFindings = findingWriter(this.db);
    const insertFindings = (flow: Flow) => writeFindings({ ...flow, start: flow.timings.start });
    const insert = (draft: Omit<Flow, 'id'>): Flow => {
      // The session current when the flow is stored: the one the tester sees running while it completes.
      const session = this.sessions.currentId();
      const info = this.insertFlow.run({ ...columns(draft), session });
      const flow: Flow = { id: Number(info.lastInsertRowid), ...draft, session };
      setJson.run(JSON.stringify(summarize(flow)), JSON.stringify(flow), flow.id);
      insertFindings(flow);
      indexText(flow.id, flow);
      this.outbox?.add(flow.id);
      return flow;
    };
    this.replaceFlow = this.db.transaction((flow: Flow) => {
      updateFlow.run({ ...columns(flow), id: flow.id });
      setJson.run(JSON.stringify(summarize(flow)), JSON.stringify(flow), flow.id);
      deleteFindings.run(flow.id);
      insertFindings(flow);
      indexText(flow.id, flow);
    });
    this.addFlow = this.db.transaction(insert);
    this.addFlows = this.db.transaction((drafts: Omit<Flow, 'id'>[]) => drafts.map(insert));
  }

  /** Stores a completed flow and returns it with its id. */
  add(draft: Omit<Flow, 'id'>): Flow {
    return this.addFlow(draft);
  }

  /**
   * Stores a completed flow; resolves with it once it is committed. Flows handed in during one turn of the
   * event loop share a transaction: a commit per flow was the store's largest cost under load, and each
   * flow is still on disk before its promise resolves (a phone's response ends only after that).
   */
  commit(draft: Omit<Flow, 'id'>): Promise<Flow> {
    return new Promise((resolve, reject) => {
      if (this.queue.length === 0) setImmediate(() => this.flush());
      this.queue.push({ draft, resolve, reject });
    });
  }

  /**
   * Rewrites a stored flow in place (a tunnel still open that found more, or that has closed). Its id, and so
   * its place in the feed, stays; the caller must have seen its `commit` resolve.
   */
  update(flow: Flow): Flow {
    this.replaceFlow(flow);
    return flow;
  }

  private flush(): void {
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    try {
      const flows = this.addFlows(batch.map((b) => b.draft));
      batch.forEach((b, i) => b.resolve(flows[i]));
    } catch {
      // One flow that cannot be stored must not take the others with it.
      for (const b of batch) {
        try {
          b.resolve(this.addFlow(b.draft));
        } catch (err) {
          b.reject(err as Error);
        }
      }
    }
  }

  get(id: number): Flow | undefined {
    const row = this.db.prepare(`SELECT flow, ${OVERLAY} FROM flows WHERE id = ?`).get(id) as StoredRow<'flow'> | undefined;
    return row ? withColumns<Flow>(row.flow, row) : undefined;
  }

  /**
   * The WHERE clause of `q`. `sessionByTime`: the session is checked on each row met rather than looked up in
   * flows_session, so that a scan by time (the timeline) reads flows_start alone.
   */
  private where(q: FlowQuery, sessionByTime = false): { sql: string; params: unknown[] } {
    // Full-text terms read flow_text: the texts still waiting go in first.
    if (q.filter) this.textIndex.flush();
    return flowQuerySql(q, DIALECT, { sessionByTime });
  }

  /** Without `after`: newest first. With `after`: oldest first (a client catching up). */
  summaries(q: FlowQuery): FlowSummary[] {
    const { sql, params } = this.where(q);
    const order = q.after !== undefined ? 'ASC' : 'DESC';
    const limit = Math.min(Math.max(q.limit ?? 200, 1), 5000);
    const rows = this.db
      .prepare(`SELECT summary, ${OVERLAY} FROM flows ${sql} ORDER BY id ${order} LIMIT ${limit}`)
      .all(...params) as StoredRow<'summary'>[];
    return rows.map((r) => withColumns<FlowSummary>(r.summary, r));
  }

  /** Full flows matching `q`, oldest first, one at a time (exports can be large). */
  *flows(q: FlowQuery): Generator<Flow> {
    const { sql, params } = this.where(q);
    const stmt = this.db.prepare(`SELECT flow, ${OVERLAY} FROM flows ${sql} ORDER BY id ASC`);
    for (const row of stmt.iterate(...params) as Iterable<StoredRow<'flow'>>) yield withColumns<Flow>(row.flow, row);
  }

  /** Flows matching `q` counted per time bucket, flagged ones by type (GET /api/timeline). */
  timeline(q: FlowQuery): TimelineResponse {
    const { sql, params } = this.where(q, true);
    return timelineOf(this.db, sql, params);
  }

  /** Marks or unmarks a flow and sets its comment (empty: none); undefined when there is no such flow. */
  mark(id: number, marked: boolean, comment: string): Flow | undefined {
    this.db.prepare('UPDATE flows SET marked = ?, comment = ? WHERE id = ?').run(marked ? 1 : 0, comment === '' ? null : comment, id);
    return this.get(id);
  }

  /**
   * Identifier type × destination host, per device. With a time range, the counts and times are the range's, and
   * `firstEver` says when the pair was first seen at all (in the session asked for): the matrix marks the pairs
   * first seen inside the range as new.
   */
  summary(scope: ScopeQuery = {}): SummaryRow[] {
    const inSession = scope.session !== undefined ? 'WHERE flow_id IN (SELECT id FROM flows WHERE session_id = @session)' : '';
    const bounds = [...(scope.from !== undefined ? ['time >= @from'] : []), ...(scope.to !== undefined ? ['time < @to'] : [])];
    const inRange = (value: string) => (bounds.length ? `CASE WHEN ${bounds.join(' AND ')} THEN ${value} END` : value);
    return this.db
      .prepare(
        `SELECT host, domain, country, org, type, device, COUNT(DISTINCT ${inRange('flow_id')}) AS count,
                MIN(${inRange('time')}) AS firstSeen, MAX(${inRange('time')}) AS lastSeen, MAX(tracker) AS tracker, MAX(tracker_name) AS trackerName,
                group_concat(DISTINCT ${inRange('encoding')}) AS encodings ${bounds.length ? ', MIN(time) AS firstEver' : ''}
         FROM findings ${inSession} GROUP BY host, type, device ${bounds.length ? 'HAVING count > 0' : ''} ORDER BY domain, host, type`,
      )
      .all({ session: scope.session, from: scope.from, to: scope.to })
      .map((r) => {
        const row = dropNulls(r as Record<string, unknown>) as Omit<SummaryRow, 'encodings'> & { encodings?: string };
        // Encoding chains are made of names and `+`, never a comma.
        return { ...row, encodings: row.encodings ? row.encodings.split(',').sort() : [] };
      });
  }

  devices(scope: ScopeQuery = {}): { client: string; name?: string; flows: number; flagged: number; findings: number; firstSeen: number; lastSeen: number }[] {
    const inSession = scope.session !== undefined ? 'AND y.session_id = @session' : '';
    return this.db
      .prepare(
        `SELECT f.client, n.name, COUNT(*) AS flows, SUM(f.flagged) AS flagged,
                (SELECT COUNT(DISTINCT x.flow_id || char(0) || x.type || char(0) || x.value || char(0) || coalesce(x.device, ''))
                 FROM findings x JOIN flows y ON x.flow_id = y.id WHERE y.client = f.client ${inSession}) AS findings,
                MIN(f.start) AS firstSeen, MAX(f.start) AS lastSeen
         FROM flows f LEFT JOIN device_names n ON n.client = f.client
         ${scope.session !== undefined ? 'WHERE f.session_id = @session' : ''} GROUP BY f.client ORDER BY lastSeen DESC`,
      )
      .all(scope.session !== undefined ? { session: scope.session } : {})
      .map((r) => dropNulls(r as Record<string, unknown>)) as never;
  }

  /**
   * What left in a session, for the diff and the report: one group per device, identifier type, destination
   * (registrable domain) and encoding, counted in requests; the destinations talked to; the countries that got an
   * identifier. A finding's own device (from the identifiers file) comes first, then the flow's, then its client.
   */
  leaks(scope: ScopeQuery & { session: number }): SessionLeaks {
    const params = { session: scope.session, device: scope.device ?? null };
    const device = "coalesce(json_extract(j.value, '$.device'), f.device, f.client)";
    const destination = "coalesce(json_extract(f.summary, '$.destination.domain'), f.host)";
    const ofDevice = scope.device ? `AND (${device} = @device OR f.device = @device OR f.client = @device)` : '';
    const groups = this.db
      .prepare(
        `SELECT ${device} AS device, json_extract(j.value, '$.type') AS type, ${destination} AS destination,
                json_extract(j.value, '$.encoding') AS encoding, COUNT(DISTINCT f.id) AS count,
                MIN(f.start) AS firstSeen, MAX(f.start) AS lastSeen,
                group_concat(DISTINCT json_extract(f.summary, '$.destination.country')) AS countries,
                MAX(json_extract(f.summary, '$.destination.org')) AS org
         FROM flows f, json_each(f.summary, '$.findings') j
         WHERE f.session_id = @session AND f.flagged = 1 ${ofDevice}
         GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`,
      )
      .all(params)
      .map((r) => {
        const row = dropNulls(r as Record<string, unknown>) as unknown as Omit<LeakGroup, 'countries'> & { countries?: string };
        return { ...row, countries: row.countries ? row.countries.split(',').sort() : [] };
      });
    const ofFlowDevice = scope.device ? 'AND (device = @device OR client = @device)' : '';
    const destinations = this.db
      .prepare(
        `SELECT coalesce(json_extract(summary, '$.destination.domain'), host) AS destination, COUNT(*) AS flows, SUM(flagged) AS flagged
         FROM flows WHERE session_id = @session ${ofFlowDevice} GROUP BY 1 ORDER BY 1`,
      )
      .all(params) as DestinationUse[];
    const countries = [...new Set(groups.flatMap((g) => g.countries))].sort();
    return { groups, destinations, countries };
  }

  /** The name the tester gave `client`, if any. */
  deviceName(client: string): string | undefined {
    return this.names.get(client);
  }

  renameDevice(client: string, name: string): void {
    this.db.prepare('INSERT INTO device_names (client, name) VALUES (?, ?) ON CONFLICT(client) DO UPDATE SET name = excluded.name').run(client, name);
    this.names.set(client, name);
    for (const fn of this.renameListeners) fn(client, name);
  }

  /** Called after each rename (a primary tells its proxy workers, which name flows without a store). */
  onRename(fn: (client: string, name: string) => void): void {
    this.renameListeners.push(fn);
  }

  /** Every name the tester gave a client. */
  deviceNames(): [client: string, name: string][] {
    return [...this.names];
  }

  lastId(): number {
    const row = this.db.prepare('SELECT MAX(id) AS id FROM flows').get() as { id: number | null };
    return row.id ?? 0;
  }

  count(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM flows').get() as { n: number }).n;
  }

  close(): void {
    if (this.db.open) {
      this.flush();
      this.textIndex.close();
      this.outbox?.flush();
      this.db.pragma('wal_checkpoint(TRUNCATE)');
      this.db.close();
    }
  }
}

/** Columns that hold what changes after a flow is stored, or what older stored JSON lacks. */
const OVERLAY = 'session_id, marked, comment';

type StoredRow<K extends 'flow' | 'summary'> = Record<K, string> & { session_id: number | null; marked: number; comment: string | null };

/**
 * A stored flow or summary with its session (flows from before sessions lack it in JSON), mark and comment (set
 * after the flow was stored), which the columns hold.
 */
function withColumns<T extends { session?: number; marked?: boolean; comment?: string }>(json: string, row: StoredRow<never>): T {
  const value = JSON.parse(json) as T;
  if (row.session_id !== null) value.session = row.session_id;
  if (row.marked) value.marked = true;
  else delete value.marked;
  if (row.comment !== null) value.comment = row.comment;
  else delete value.comment;
  return value;
}

/** Stores made before tracker attribution get its columns (empty for the flows they hold). */
function addTrackerColumns(db: Database.Database): void {
  const columns = new Set((db.prepare('PRAGMA table_info(findings)').all() as { name: string }[]).map((c) => c.name));
  if (!columns.has('tracker')) db.exec('ALTER TABLE findings ADD COLUMN tracker TEXT');
  if (!columns.has('tracker_name')) db.exec('ALTER TABLE findings ADD COLUMN tracker_name TEXT');
}

function dropNulls(row: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(row).filter(([, v]) => v !== null));
}

