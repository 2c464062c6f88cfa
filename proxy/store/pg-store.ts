// The shared store of a lab: flows, findings, sessions and markers of every leakscope instance in one PostgreSQL
// database (`start --store postgres://…`). Each instance keeps its own SQLite store for its own dashboard and
// writes every flow here too, under an id of the database's own (instances' local ids collide).
import pg from 'pg';
import type { Flow } from '../../shared/types';
import { summarize } from '../../shared/types';
import { UsageError } from '../cli/errors';
import { uniqueByTypeValue } from './finding-rows';
import { FLOW_TEXT, flowTextRow, migrate, transaction } from './pg-migrate';

/** Any fixed number: the lock under which a batch draws its seqs and commits. */
const SEQ_LOCK = 0x6c656171;
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

/** A pool on the shared store, migrated; a database it cannot reach is a UsageError (exit 2) naming the URL. */
export async function openPool(url: string): Promise<pg.Pool> {
  if (!/^postgres(ql)?:\/\//.test(url)) throw new UsageError(`--store ${safeStoreUrl(url)}: a postgres://USER@HOST/DB URL`);
  // query_timeout: a database gone from the network (not refusing, just silent) must not hold a flow for minutes.
  const pool = new pg.Pool({ connectionString: url, max: 4, connectionTimeoutMillis: 5_000, query_timeout: 10_000 });
  // An idle client the server drops (a restart) must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  try {
    await migrate(pool);
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw new UsageError(`--store ${safeStoreUrl(url)}: cannot use the database (${(err as Error).message})`);
  }
  return pool;
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
    return new PgFlowStore(await openPool(url), instance);
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

  /** Whether the flow of local id `id` was committed here by this process (and is rewritten by `update`). */
  knows(id: number): boolean {
    return this.sharedIds.has(id);
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
      await db.query(`UPDATE flow_text SET (url, req_headers, res_headers, req_body, res_body) = ($2, $3, $4, $5, $6) WHERE flow_id = $1`, [id, ...flowTextRow(flow)]);
    });
  }

  private async flush(): Promise<void> {
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    try {
      await this.insert(batch);
      batch.forEach((b) => b.resolve());
    } catch (err) {
      // One flow the database refuses must not take the others with it; a database gone takes them all at once.
      if (!refused(err as Error)) return batch.forEach((b) => b.reject(err as Error));
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
      await insertRows(db, FLOW_TEXT, stored.map((f) => [f.id, ...flowTextRow(f)]));
      // Last, and held to the commit: the store-wide order (migration 2). The lock serialises only this step.
      await db.query('SELECT pg_advisory_xact_lock($1)', [SEQ_LOCK]);
      await db.query(
        `UPDATE flows f SET seq = n.seq FROM (SELECT id, nextval('flows_seq') AS seq FROM (SELECT unnest($1::bigint[]) AS id ORDER BY 1) o) n WHERE f.id = n.id`,
        [stored.map((f) => f.id)],
      );
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

/**
 * The database refused this statement (an SQLSTATE of its own) rather than went away: connection exceptions (08),
 * an operator's shutdown (57) and exhausted resources (53) are the server's state, not the flow's.
 */
function refused(err: Error & { code?: string }): boolean {
  return typeof err.code === 'string' && /^[0-9A-Z]{5}$/.test(err.code) && !/^(08|53|57)/.test(err.code);
}

function columns(flow: Flow): unknown[] {
  return [flow.timings.start, flow.client, flow.device ?? null, flow.method, flow.host, flow.url, flow.status ?? null, flow.findings.length > 0];
}

const FINDINGS = 'findings (flow_id, type, value, confidence, device, host, domain, country, org, time, tracker, tracker_name, encoding)';

/** As SQLite's (finding-rows.ts): one row per type, value, device and encoding. */
function findingRows(id: number, flow: Flow): unknown[][] {
  return uniqueByTypeValue(flow.findings, true).map((f) => [
    id, f.type, f.value, f.confidence, f.device ?? flow.device ?? null, flow.host, flow.destination?.domain ?? flow.host,
    flow.destination?.country ?? null, flow.destination?.org ?? null, flow.timings.start, flow.tracker?.slug ?? null, flow.tracker?.name ?? null, f.encoding,
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
