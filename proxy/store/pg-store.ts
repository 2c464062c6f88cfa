// The shared store of a lab: flows, findings, sessions and markers of every leakscope instance in one PostgreSQL
// database (`start --store postgres://…`). Each instance keeps its own SQLite store for its own dashboard and
// writes every flow here too, under an id of the database's own (instances' local ids collide).
import pg from 'pg';
import type { Flow } from '../../shared/types';
import { summarize } from '../../shared/types';
import { UsageError } from '../cli/errors';
import { uniqueByTypeValue } from './finding-rows';

/**
 * Schema changes in order; `leakscope_migrations` records which a database has had. Every instance runs them at
 * start under an advisory lock, so two instances starting together apply each once. Flows are kept as JSON, not
 * JSONB: a captured string may hold NUL (`\u0000`), which JSONB refuses.
 */
const MIGRATIONS: string[] = [
  `CREATE TABLE sessions (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL UNIQUE, started BIGINT NOT NULL, ended BIGINT);
   CREATE TABLE markers (id BIGSERIAL PRIMARY KEY, session_id BIGINT NOT NULL REFERENCES sessions(id), instance TEXT NOT NULL,
                         time BIGINT NOT NULL, text TEXT NOT NULL);
   CREATE INDEX markers_session ON markers(session_id, time);
   CREATE TABLE flows (id BIGSERIAL PRIMARY KEY, instance TEXT NOT NULL, local_id BIGINT NOT NULL, session_id BIGINT REFERENCES sessions(id),
                       start BIGINT NOT NULL, client TEXT NOT NULL, device TEXT, method TEXT NOT NULL, host TEXT NOT NULL,
                       url TEXT NOT NULL, status INTEGER, flagged BOOLEAN NOT NULL, summary JSON NOT NULL, flow JSON NOT NULL);
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
    await transaction(this.pool, async (db) => {
      await db.query(
        `UPDATE flows SET start = $2, client = $3, device = $4, method = $5, host = $6, url = $7, status = $8, flagged = $9,
                          summary = $10, flow = $11 WHERE id = $1`,
        [id, ...columns(flow), JSON.stringify(summarize({ ...flow, id })), JSON.stringify({ ...flow, id })],
      );
      await db.query('DELETE FROM findings WHERE flow_id = $1', [id]);
      await insertRows(db, FINDINGS, findingRows(id, flow));
    });
  }

  private async flush(): Promise<void> {
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    try {
      await this.insert(batch);
      batch.forEach((b) => b.resolve());
    } catch {
      // One flow the database refuses must not take the others with it.
      for (const b of batch) await this.insert([b]).then(b.resolve, b.reject);
    }
  }

  /** A batch in one transaction, three statements whatever its size: a round trip per flow was the cost. */
  private async insert(batch: { flow: Flow; session: string }[]): Promise<void> {
    const sessions = await Promise.all(batch.map((b) => this.sessionId(b.session, b.flow.timings.start)));
    const stored: Flow[] = [];
    await transaction(this.pool, async (db) => {
      const ids = await db.query<{ id: string }>("SELECT nextval('flows_id_seq') AS id FROM generate_series(1, $1)", [batch.length]);
      stored.push(...batch.map((b, i) => ({ ...b.flow, id: Number(ids.rows[i].id), session: sessions[i] })));
      await insertRows(db, 'flows (id, instance, local_id, session_id, start, client, device, method, host, url, status, flagged, summary, flow)',
        stored.map((f, i) => [f.id, this.instance, batch[i].flow.id, f.session, ...columns(f), JSON.stringify(summarize(f)), JSON.stringify(f)]));
      await insertRows(db, FINDINGS, stored.flatMap((f) => findingRows(f.id, f)));
    });
    batch.forEach((b, i) => this.sharedIds.set(b.flow.id, stored[i].id));
    while (this.sharedIds.size > OPEN_FLOWS_KEPT) this.sharedIds.delete(this.sharedIds.keys().next().value as number);
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

  async close(): Promise<void> {
    await this.flush();
    await this.pool.end();
  }
}

/** `work` in one transaction on one pooled connection, rolled back if it throws. */
async function transaction(pool: pg.Pool, work: (db: pg.PoolClient) => Promise<void>): Promise<void> {
  const db = await pool.connect();
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

function migrate(pool: pg.Pool): Promise<void> {
  return transaction(pool, async (db) => {
    await db.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await db.query('CREATE TABLE IF NOT EXISTS leakscope_migrations (version INTEGER PRIMARY KEY, applied BIGINT NOT NULL)');
    const { rows } = await db.query<{ v: number | null }>('SELECT MAX(version) AS v FROM leakscope_migrations');
    for (let v = rows[0].v ?? 0; v < MIGRATIONS.length; v++) {
      await db.query(MIGRATIONS[v]);
      await db.query('INSERT INTO leakscope_migrations (version, applied) VALUES ($1, $2)', [v + 1, Date.now()]);
    }
  });
}

function columns(flow: Flow): unknown[] {
  return [flow.timings.start, flow.client, flow.device ?? null, flow.method, flow.host, flow.url, flow.status ?? null, flow.findings.length > 0];
}

const FINDINGS = 'findings (flow_id, type, value, confidence, device, host, domain, country, org, time)';

function findingRows(id: number, flow: Flow): unknown[][] {
  return uniqueByTypeValue(flow.findings).map((f) => [
    id, f.type, f.value, f.confidence, f.device ?? flow.device ?? null, flow.host, flow.destination?.domain ?? flow.host,
    flow.destination?.country ?? null, flow.destination?.org ?? null, flow.timings.start,
  ]);
}

/** PostgreSQL takes at most 65,535 parameters a statement. */
const MAX_PARAMS = 60_000;

async function insertRows(db: pg.PoolClient, into: string, rows: unknown[][]): Promise<void> {
  if (rows.length === 0) return;
  const per = Math.max(1, Math.floor(MAX_PARAMS / rows[0].length));
  for (let start = 0; start < rows.length; start += per) {
    const chunk = rows.slice(start, start + per);
    let n = 0;
    const values = chunk.map((row) => `(${row.map(() => `$${++n}`).join(', ')})`).join(', ');
    await db.query(`INSERT INTO ${into} VALUES ${values}`, chunk.flat());
  }
}
