// The shared store of a lab: flows, findings, sessions and markers of every leakscope instance in one PostgreSQL
// database (`start --store postgres://…`). Each instance keeps its own SQLite store for its own dashboard and
// writes every flow here too, under an id of the database's own (instances' local ids collide).
import pg from 'pg';
import type { Flow, FlowSummary } from '../../shared/types';
import { summarize } from '../../shared/types';
import { UsageError } from '../cli/errors';
import { uniqueByTypeValue } from './flow-store';

/**
 * Schema changes in order; `leakscope_migrations` records which a database has had. Every instance runs them at
 * start under an advisory lock, so two instances starting together apply each once.
 */
const MIGRATIONS: string[] = [
  `CREATE TABLE sessions (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL UNIQUE, started BIGINT NOT NULL, ended BIGINT);
   CREATE TABLE markers (id BIGSERIAL PRIMARY KEY, session_id BIGINT NOT NULL REFERENCES sessions(id), instance TEXT NOT NULL,
                         time BIGINT NOT NULL, text TEXT NOT NULL);
   CREATE INDEX markers_session ON markers(session_id, time);
   CREATE TABLE flows (id BIGSERIAL PRIMARY KEY, instance TEXT NOT NULL, local_id BIGINT NOT NULL, session_id BIGINT REFERENCES sessions(id),
                       start BIGINT NOT NULL, client TEXT NOT NULL, device TEXT, method TEXT NOT NULL, host TEXT NOT NULL,
                       url TEXT NOT NULL, status INTEGER, flagged BOOLEAN NOT NULL, summary JSONB NOT NULL, flow JSONB NOT NULL);
   CREATE INDEX flows_flagged ON flows(flagged, id);
   CREATE INDEX flows_instance ON flows(instance, id);
   CREATE INDEX flows_session ON flows(session_id, id);
   CREATE TABLE findings (flow_id BIGINT NOT NULL REFERENCES flows(id) ON DELETE CASCADE, type TEXT NOT NULL, value TEXT NOT NULL,
                          confidence TEXT NOT NULL, device TEXT, host TEXT NOT NULL, domain TEXT NOT NULL, country TEXT, org TEXT,
                          time BIGINT NOT NULL);
   CREATE INDEX findings_flow ON findings(flow_id);
   CREATE INDEX findings_type ON findings(type, flow_id);`,
];

/** Any fixed number: the lock every instance takes while it migrates. */
const MIGRATION_LOCK = 0x6c65616b;
/** Open flows (tunnels, WebSockets) are rewritten under their shared id; the newest this many are remembered. */
const OPEN_FLOWS_KEPT = 10_000;

/** The URL as it may be printed: without its password. */
export function safeStoreUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(not a URL)';
  }
}

export class PgFlowStore {
  private readonly sessionIds = new Map<string, Promise<number>>();
  private readonly sharedIds = new Map<number, number>();
  private queue: { flow: Flow; session: string; resolve: () => void; reject: (err: Error) => void }[] = [];

  private constructor(
    private readonly pool: pg.Pool,
    readonly instance: string,
  ) {}

  /** Connects and migrates; a database it cannot reach is a UsageError (exit 2) naming the URL. */
  static async open(url: string, instance: string): Promise<PgFlowStore> {
    if (!/^postgres(ql)?:\/\//.test(url)) throw new UsageError(`--store ${safeStoreUrl(url)}: a postgres://USER@HOST/DB URL`);
    const pool = new pg.Pool({ connectionString: url, max: 4, connectionTimeoutMillis: 5_000 });
    // An idle client the server drops (a restart) must not crash the process; the pool replaces it.
    pool.on('error', () => undefined);
    try {
      await migrate(pool);
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw new UsageError(`--store ${safeStoreUrl(url)}: cannot use the database (${(err as Error).message})`);
    }
    return new PgFlowStore(pool, instance);
  }

  /**
   * Stores a completed flow (with its local id, and `session` named as in the local store); resolves once it is
   * committed. Flows handed in during one turn of the event loop share a transaction, as in the SQLite store.
   */
  commit(flow: Flow, session: string): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.queue.length === 0) setImmediate(() => void this.flush());
      this.queue.push({ flow, session, resolve, reject });
    });
  }

  /** Rewrites a flow committed before (an open tunnel that found more, or closed). */
  async update(flow: Flow): Promise<void> {
    const id = this.sharedIds.get(flow.id);
    if (id === undefined) return;
    await this.transaction(async (db) => {
      await db.query(
        `UPDATE flows SET start = $2, client = $3, device = $4, method = $5, host = $6, url = $7, status = $8, flagged = $9,
                          summary = $10, flow = $11 WHERE id = $1`,
        [id, ...columns(flow), JSON.stringify(summarize({ ...flow, id })), JSON.stringify({ ...flow, id })],
      );
      await db.query('DELETE FROM findings WHERE flow_id = $1', [id]);
      await insertFindings(db, id, flow);
    });
  }

  private async flush(): Promise<void> {
    const batch = this.queue;
    this.queue = [];
    try {
      await this.transaction(async (db) => {
        for (const b of batch) await this.insert(db, b.flow, b.session);
      });
      batch.forEach((b) => b.resolve());
    } catch (err) {
      batch.forEach((b) => b.reject(err as Error));
    }
  }

  private async insert(db: pg.PoolClient, flow: Flow, session: string): Promise<void> {
    const sessionId = await this.sessionId(session, flow.timings.start);
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO flows (instance, local_id, session_id, start, client, device, method, host, url, status, flagged, summary, flow)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, '{}', '{}') RETURNING id`,
      [this.instance, flow.id, sessionId, ...columns(flow)],
    );
    const id = Number(rows[0].id);
    const shared: Flow = { ...flow, id, session: sessionId };
    await db.query('UPDATE flows SET summary = $2, flow = $3 WHERE id = $1', [id, JSON.stringify(summarize(shared)), JSON.stringify(shared)]);
    await insertFindings(db, id, flow);
    this.sharedIds.set(flow.id, id);
    if (this.sharedIds.size > OPEN_FLOWS_KEPT) this.sharedIds.delete(this.sharedIds.keys().next().value as number);
  }

  /** The shared session of that name, made (started at `time`) the first time any instance uses it. */
  private sessionId(name: string, time: number): Promise<number> {
    let id = this.sessionIds.get(name);
    if (!id) {
      id = this.pool
        .query<{ id: string }>(
          `INSERT INTO sessions (name, started) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id`,
          [name, time],
        )
        .then((r) => Number(r.rows[0].id));
      id.catch(() => this.sessionIds.delete(name));
      this.sessionIds.set(name, id);
    }
    return id;
  }

  /** A marker the tester set in this instance's session `session`. */
  async addMarker(session: string, time: number, text: string): Promise<void> {
    await this.pool.query('INSERT INTO markers (session_id, instance, time, text) VALUES ($1, $2, $3, $4)', [await this.sessionId(session, time), this.instance, time, text]);
  }

  /** Summaries of the shared flows, newest first (optionally only flagged ones). */
  async summaries(q: { flagged?: boolean; limit?: number } = {}): Promise<FlowSummary[]> {
    const limit = Math.min(Math.max(q.limit ?? 200, 1), 5000);
    const { rows } = await this.pool.query<{ summary: FlowSummary }>(
      `SELECT summary FROM flows ${q.flagged ? 'WHERE flagged' : ''} ORDER BY id DESC LIMIT ${limit}`,
    );
    return rows.map((r) => r.summary);
  }

  private async transaction(work: (db: pg.PoolClient) => Promise<void>): Promise<void> {
    const db = await this.pool.connect();
    try {
      await db.query('BEGIN');
      await work(db);
      await db.query('COMMIT');
    } catch (err) {
      await db.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      db.release();
    }
  }

  async close(): Promise<void> {
    await this.flush();
    await this.pool.end();
  }
}

async function migrate(pool: pg.Pool): Promise<void> {
  const db = await pool.connect();
  try {
    await db.query('BEGIN');
    await db.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await db.query('CREATE TABLE IF NOT EXISTS leakscope_migrations (version INTEGER PRIMARY KEY, applied BIGINT NOT NULL)');
    const { rows } = await db.query<{ v: number | null }>('SELECT MAX(version) AS v FROM leakscope_migrations');
    for (let v = rows[0].v ?? 0; v < MIGRATIONS.length; v++) {
      await db.query(MIGRATIONS[v]);
      await db.query('INSERT INTO leakscope_migrations (version, applied) VALUES ($1, $2)', [v + 1, Date.now()]);
    }
    await db.query('COMMIT');
  } catch (err) {
    await db.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    db.release();
  }
}

function columns(flow: Flow): unknown[] {
  return [flow.timings.start, flow.client, flow.device ?? null, flow.method, flow.host, flow.url, flow.status ?? null, flow.findings.length > 0];
}

async function insertFindings(db: pg.PoolClient, id: number, flow: Flow): Promise<void> {
  for (const f of uniqueByTypeValue(flow.findings)) {
    await db.query(
      `INSERT INTO findings (flow_id, type, value, confidence, device, host, domain, country, org, time)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [id, f.type, f.value, f.confidence, f.device ?? flow.device ?? null, flow.host, flow.destination?.domain ?? flow.host,
       flow.destination?.country ?? null, flow.destination?.org ?? null, flow.timings.start],
    );
  }
}
