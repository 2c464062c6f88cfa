// Flows on disk: one SQLite file in the data dir (WAL), small transactions (the flows completed in one turn
// of the event loop), so a `kill -9` loses nothing whose response had completed.
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import type { Finding, Flow, FlowSummary, SummaryRow } from '../../shared/types';
import { summarize } from '../../shared/types';

export interface FlowQuery {
  flagged?: boolean;
  limit?: number;
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
}

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
  private readonly insertFinding: Database.Statement;
  private readonly addFlow: (flow: Omit<Flow, 'id'>) => Flow;
  private readonly addFlows: (flows: Omit<Flow, 'id'>[]) => Flow[];
  private queue: { draft: Omit<Flow, 'id'>; resolve: (flow: Flow) => void; reject: (err: Error) => void }[] = [];
  private readonly names: Map<string, string>;

  constructor(dataDir: string) {
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    this.db = new Database(path.join(dataDir, 'flows.db'));
    this.db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode survives a process crash (kill -9); only a power cut can lose the last commits.
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(SCHEMA);
    addTrackerColumns(this.db);
    // Asked for every request: kept in memory, written through on rename.
    const rows = this.db.prepare('SELECT client, name FROM device_names').all() as { client: string; name: string }[];
    this.names = new Map(rows.map((r) => [r.client, r.name]));
    this.insertFlow = this.db.prepare(
      `INSERT INTO flows (start, client, device, method, host, url, status, flagged, summary, flow)
       VALUES (@start, @client, @device, @method, @host, @url, @status, @flagged, '', '')`,
    );
    const setJson = this.db.prepare('UPDATE flows SET summary = ?, flow = ? WHERE id = ?');
    this.insertFinding = this.db.prepare(
      `INSERT INTO findings (flow_id, type, value, confidence, device, host, domain, country, org, time, tracker, tracker_name)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const insert = (draft: Omit<Flow, 'id'>): Flow => {
      const info = this.insertFlow.run({
        start: draft.timings.start,
        client: draft.client,
        device: draft.device ?? null,
        method: draft.method,
        host: draft.host,
        url: draft.url,
        status: draft.status ?? null,
        flagged: draft.findings.length > 0 ? 1 : 0,
      });
      const flow: Flow = { id: Number(info.lastInsertRowid), ...draft };
      setJson.run(JSON.stringify(summarize(flow)), JSON.stringify(flow), flow.id);
      for (const f of uniqueByTypeValue(flow.findings)) {
        this.insertFinding.run(
          flow.id,
          f.type,
          f.value,
          f.confidence,
          f.device ?? flow.device ?? null,
          flow.host,
          flow.destination?.domain ?? flow.host,
          flow.destination?.country ?? null,
          flow.destination?.org ?? null,
          flow.timings.start,
          flow.tracker?.slug ?? null,
          flow.tracker?.name ?? null,
        );
      }
      return flow;
    };
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
    const row = this.db.prepare('SELECT flow FROM flows WHERE id = ?').get(id) as { flow: string } | undefined;
    return row ? (JSON.parse(row.flow) as Flow) : undefined;
  }

  private where(q: FlowQuery): { sql: string; params: unknown[] } {
    const clauses: string[] = [];
    const params: unknown[] = [];
    if (q.flagged) clauses.push('flagged = 1');
    if (q.after !== undefined) (clauses.push('id > ?'), params.push(q.after));
    if (q.before !== undefined) (clauses.push('id < ?'), params.push(q.before));
    if (q.device) (clauses.push('(device = ? OR client = ?)'), params.push(q.device, q.device));
    if (q.host) (clauses.push("host LIKE ? ESCAPE '\\'"), params.push(`%${escapeLike(q.host)}%`));
    if (q.q) (clauses.push("url LIKE ? ESCAPE '\\'"), params.push(`%${escapeLike(q.q)}%`));
    if (q.tracker) (clauses.push("json_extract(summary, '$.tracker.slug') = ?"), params.push(q.tracker));
    if (q.ids) clauses.push(`id IN (${q.ids.map(() => '?').join(',') || 'NULL'})`), params.push(...q.ids);
    if (q.type || q.confidence) {
      const sub: string[] = [];
      if (q.type) (sub.push('type = ?'), params.push(q.type));
      if (q.confidence) (sub.push('confidence = ?'), params.push(q.confidence));
      clauses.push(`id IN (SELECT flow_id FROM findings WHERE ${sub.join(' AND ')})`);
    }
    return { sql: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
  }

  /** Without `after`: newest first. With `after`: oldest first (a client catching up). */
  summaries(q: FlowQuery): FlowSummary[] {
    const { sql, params } = this.where(q);
    const order = q.after !== undefined ? 'ASC' : 'DESC';
    const limit = Math.min(Math.max(q.limit ?? 200, 1), 5000);
    const rows = this.db
      .prepare(`SELECT summary FROM flows ${sql} ORDER BY id ${order} LIMIT ${limit}`)
      .all(...params) as { summary: string }[];
    return rows.map((r) => JSON.parse(r.summary) as FlowSummary);
  }

  /** Full flows matching `q`, oldest first, one at a time (exports can be large). */
  *flows(q: FlowQuery): Generator<Flow> {
    const { sql, params } = this.where(q);
    const stmt = this.db.prepare(`SELECT flow FROM flows ${sql} ORDER BY id ASC`);
    for (const row of stmt.iterate(...params) as Iterable<{ flow: string }>) yield JSON.parse(row.flow) as Flow;
  }

  summary(): SummaryRow[] {
    return this.db
      .prepare(
        `SELECT host, domain, country, org, type, device, COUNT(DISTINCT flow_id) AS count,
                MIN(time) AS firstSeen, MAX(time) AS lastSeen, MAX(tracker) AS tracker, MAX(tracker_name) AS trackerName
         FROM findings GROUP BY host, type, device ORDER BY domain, host, type`,
      )
      .all()
      .map((r) => dropNulls(r as Record<string, unknown>)) as unknown as SummaryRow[];
  }

  devices(): { client: string; name?: string; flows: number; flagged: number; findings: number; firstSeen: number; lastSeen: number }[] {
    return this.db
      .prepare(
        `SELECT f.client, n.name, COUNT(*) AS flows, SUM(f.flagged) AS flagged,
                (SELECT COUNT(*) FROM findings x JOIN flows y ON x.flow_id = y.id WHERE y.client = f.client) AS findings,
                MIN(f.start) AS firstSeen, MAX(f.start) AS lastSeen
         FROM flows f LEFT JOIN device_names n ON n.client = f.client GROUP BY f.client ORDER BY lastSeen DESC`,
      )
      .all()
      .map((r) => dropNulls(r as Record<string, unknown>)) as never;
  }

  /** The name the tester gave `client`, if any. */
  deviceName(client: string): string | undefined {
    return this.names.get(client);
  }

  renameDevice(client: string, name: string): void {
    this.db.prepare('INSERT INTO device_names (client, name) VALUES (?, ?) ON CONFLICT(client) DO UPDATE SET name = excluded.name').run(client, name);
    this.names.set(client, name);
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
      this.db.pragma('wal_checkpoint(TRUNCATE)');
      this.db.close();
    }
  }
}

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => '\\' + c);
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

function uniqueByTypeValue(findings: Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = `${f.type}\0${f.value}\0${f.device ?? ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
