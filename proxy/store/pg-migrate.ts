// The shared store's schema, in order; `leakscope_migrations` records which a database has had. Every instance and
// dashboard node runs them at start under an advisory lock, so processes starting together apply each once.
import type pg from 'pg';
import type { Flow } from '../../shared/types';
import { flowText } from '../filter/flow-text';

type Migration = string | ((db: pg.PoolClient) => Promise<void>);

/** PostgreSQL's TEXT holds no NUL; a binary body read as UTF-8 often does. U+FFFD: no typed needle holds it. */
export function pgText(s: string): string {
  return s.includes('\u0000') ? s.replace(/\u0000/g, '\uFFFD') : s;
}

/** A flow's searchable text as flow_text's columns, after flow_id (filter/flow-text.ts: what SQLite indexes). */
export function flowTextRow(flow: Flow): string[] {
  const t = flowText(flow);
  return [t.url, t.reqHeaders, t.resHeaders, t.reqBody, t.resBody].map(pgText);
}

export const FLOW_TEXT = 'flow_text (flow_id, url, req_headers, res_headers, req_body, res_body)';

const MIGRATIONS: Migration[] = [
  // 1: flows are kept as JSON, not JSONB: a captured string may hold NUL (`\u0000`), which JSONB refuses.
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
  // 2: what the dashboard node reads.
  // - `seq`: the order flows were committed in, store-wide. Ids are drawn before a transaction commits, so two
  //   instances commit them out of order; seq is drawn under an advisory lock held to the commit, so every seq
  //   below a visible one is visible too, and a dashboard that resumes after the highest it saw misses none.
  // - NOTIFY leakscope_flows when a batch gets its seqs (delivered at commit), so the node reads them at once.
  // - flow_text: the searchable text, with pg_trgm indexes where the extension can be had (ILIKE works without).
  // - the tracker's slug and name on findings, for the matrix.
  `ALTER TABLE flows ADD COLUMN seq BIGINT;
   CREATE SEQUENCE flows_seq;
   UPDATE flows f SET seq = o.n FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM flows) o WHERE f.id = o.id;
   SELECT setval('flows_seq', coalesce((SELECT max(seq) FROM flows), 0) + 1, false);
   CREATE UNIQUE INDEX flows_seq_key ON flows(seq);
   CREATE INDEX flows_instance_seq ON flows(instance, seq);
   ALTER TABLE findings ADD COLUMN tracker TEXT, ADD COLUMN tracker_name TEXT;
   UPDATE findings x SET tracker = f.summary->'tracker'->>'slug', tracker_name = f.summary->'tracker'->>'name' FROM flows f WHERE f.id = x.flow_id;
   CREATE TABLE flow_text (flow_id BIGINT PRIMARY KEY REFERENCES flows(id) ON DELETE CASCADE, url TEXT NOT NULL, req_headers TEXT NOT NULL,
                           res_headers TEXT NOT NULL, req_body TEXT NOT NULL, res_body TEXT NOT NULL);
   CREATE FUNCTION leakscope_flows_notify() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_notify('leakscope_flows', ''); RETURN NULL; END $$;
   CREATE TRIGGER flows_committed AFTER UPDATE OF seq ON flows FOR EACH STATEMENT EXECUTE FUNCTION leakscope_flows_notify();`,
  async (db) => {
    await db.query('SAVEPOINT trgm');
    try {
      await db.query('CREATE EXTENSION IF NOT EXISTS pg_trgm');
      for (const column of ['url', 'req_headers', 'res_headers', 'req_body', 'res_body'])
        await db.query(`CREATE INDEX flow_text_${column} ON flow_text USING gin (${column} gin_trgm_ops)`);
      await db.query('RELEASE SAVEPOINT trgm');
    } catch {
      // Not installed, or not ours to create (pg_trgm is a trusted extension: a database owner may). Search
      // still answers, by scanning.
      await db.query('ROLLBACK TO SAVEPOINT trgm');
    }
    // The flows of migration 1's time, in pages.
    for (let after = 0; ; ) {
      const { rows } = await db.query<{ id: string; flow: Flow }>('SELECT id, flow FROM flows WHERE id > $1 ORDER BY id LIMIT 500', [after]);
      if (rows.length === 0) return;
      for (const row of rows) await db.query(`INSERT INTO ${FLOW_TEXT} VALUES ($1, $2, $3, $4, $5, $6)`, [row.id, ...flowTextRow(row.flow)]);
      after = Number(rows[rows.length - 1].id);
    }
  },
  // 4: as SQLite's migration 5, each finding row says how its value was encoded (the matrix's chips), one row per
  // type, value, device and encoding. The rows there were are copied once per encoding the flow's findings name.
  `ALTER TABLE findings ADD COLUMN encoding TEXT;
   INSERT INTO findings (flow_id, type, value, confidence, device, host, domain, country, org, time, tracker, tracker_name, encoding)
     SELECT DISTINCT ON (x.flow_id, x.type, x.value, x.device, j->>'encoding')
            x.flow_id, x.type, x.value, x.confidence, x.device, x.host, x.domain, x.country, x.org, x.time, x.tracker, x.tracker_name, j->>'encoding'
     FROM findings x JOIN flows f ON f.id = x.flow_id, json_array_elements(f.flow->'findings') j
     WHERE j->>'type' = x.type AND j->>'value' = x.value AND coalesce(j->>'device', f.device) IS NOT DISTINCT FROM x.device
           AND j->>'encoding' IS NOT NULL;
   DELETE FROM findings x WHERE x.encoding IS NULL AND EXISTS (
     SELECT 1 FROM findings y WHERE y.flow_id = x.flow_id AND y.type = x.type AND y.value = x.value
                                AND y.device IS NOT DISTINCT FROM x.device AND y.encoding IS NOT NULL);`,
];

/** Any fixed number: the lock every process takes while it migrates. */
const MIGRATION_LOCK = 0x6c65616b;

/** `work` in one transaction on one pooled connection, rolled back if it throws. */
export async function transaction<T>(pool: pg.Pool, work: (db: pg.PoolClient) => Promise<T>): Promise<T> {
  const db = await pool.connect();
  try {
    await db.query('BEGIN');
    const result = await work(db);
    await db.query('COMMIT');
    return result;
  } catch (err) {
    await db.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    db.release();
  }
}

export function migrate(pool: pg.Pool): Promise<void> {
  return transaction(pool, async (db) => {
    await db.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await db.query('CREATE TABLE IF NOT EXISTS leakscope_migrations (version INTEGER PRIMARY KEY, applied BIGINT NOT NULL)');
    const { rows } = await db.query<{ v: number | null }>('SELECT MAX(version) AS v FROM leakscope_migrations');
    for (let v = rows[0].v ?? 0; v < MIGRATIONS.length; v++) {
      const step = MIGRATIONS[v];
      await (typeof step === 'string' ? db.query(step) : step(db));
      await db.query('INSERT INTO leakscope_migrations (version, applied) VALUES ($1, $2)', [v + 1, Date.now()]);
    }
  });
}
