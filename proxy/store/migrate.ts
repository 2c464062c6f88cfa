// Schema changes after the first one, in order; `PRAGMA user_version` records how many a database has had.
// A database written before a change opens with the new code and keeps every flow.
import type Database from 'better-sqlite3';
import type { Flow, FlowSummary } from '../../shared/types';
import { findingWriter } from './finding-rows';
import { sessionName } from './session-log';

type Migration = (db: Database.Database) => void;

const MIGRATIONS: Migration[] = [
  // 1: capture sessions and their markers. The flows already there form one session, named, like any session,
  // by its start: the first flow's time; it ends at the last one.
  (db) => {
    db.exec(`
      CREATE TABLE sessions (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, started INTEGER NOT NULL, ended INTEGER);
      CREATE TABLE markers (id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL REFERENCES sessions(id), time INTEGER NOT NULL, text TEXT NOT NULL);
      CREATE INDEX markers_session ON markers(session_id, time);
      ALTER TABLE flows ADD COLUMN session_id INTEGER REFERENCES sessions(id);
      CREATE INDEX flows_session ON flows(session_id, id);
    `);
    const range = db.prepare('SELECT MIN(start) AS first, MAX(start) AS last FROM flows').get() as { first: number | null; last: number | null };
    if (range.first === null || range.last === null) return;
    const id = db.prepare('INSERT INTO sessions (name, started, ended) VALUES (?, ?, ?)').run(sessionName(range.first), range.first, range.last).lastInsertRowid;
    // Only the column: the store reads a flow's session from it, so no stored JSON is rewritten.
    db.prepare('UPDATE flows SET session_id = ?').run(id);
  },
  // 2: the destination's country and owner as columns for `~cc` and `~org`; the tester's marks and comments.
  // (It also made the full-text index here, which 3 moved out: see ./flow-text-index.ts.)
  (db) => {
    db.exec(`
      ALTER TABLE flows ADD COLUMN country TEXT;
      ALTER TABLE flows ADD COLUMN org TEXT;
      ALTER TABLE flows ADD COLUMN marked INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE flows ADD COLUMN comment TEXT;
      CREATE INDEX flows_marked ON flows(marked, id);
    `);
    const setDestination = db.prepare('UPDATE flows SET country = ?, org = ? WHERE id = ?');
    eachStored<Flow>(db, 'flow', '', (id, flow) => setDestination.run(flow.destination?.country ?? null, flow.destination?.org ?? null, id));
  },
  // 3: the full-text index moved to a file of its own, written by a thread of its own; the store fills it at open.
  (db) => db.exec('DROP TABLE IF EXISTS flow_text'),
  // 4: flows by time, for the timeline and a time range (`from`, `to`). A flagged flow's first finding's type (its
  // colour in the feed) is a column, and the index holds it and the session: the timeline of the store or of a
  // session is counted from the index alone.
  (db) => {
    db.exec(`
      ALTER TABLE flows ADD COLUMN first_type TEXT;
      UPDATE flows SET first_type = (SELECT type FROM findings WHERE flow_id = flows.id ORDER BY rowid LIMIT 1) WHERE flagged = 1;
      CREATE INDEX flows_start ON flows(start, session_id, first_type);
    `);
  },
  // 5: each finding row says how the value was encoded (the matrix's chips, `~enc`), one row per type, value,
  // device and encoding. The rows there were are written again from each flagged flow's stored summary, which
  // holds every finding with its encoding.
  (db) => {
    db.exec('ALTER TABLE findings ADD COLUMN encoding TEXT');
    const write = findingWriter(db);
    const drop = db.prepare('DELETE FROM findings WHERE flow_id = ?');
    eachStored<FlowSummary>(db, 'summary', 'AND flagged = 1', (id, summary) => {
      drop.run(id);
      write({ ...summary, id });
    });
  },
  // 6: the flows a lab's shared store has yet to get (store/shared-outbox.ts)
  (db) => db.exec('CREATE TABLE shared_outbox (flow_id INTEGER PRIMARY KEY)'),
];

/**
 * Calls `fn` with each stored flow's (or summary's) JSON, parsed, oldest first. In pages: a statement cannot write
 * while another iterates, and a large store must not sit whole in memory.
 */
function eachStored<T>(db: Database.Database, column: 'flow' | 'summary', where: string, fn: (id: number, value: T) => void): void {
  const page = db.prepare(`SELECT id, ${column} AS json FROM flows WHERE id > ? ${where} ORDER BY id LIMIT 500`);
  for (let after = 0; ; ) {
    const rows = page.all(after) as { id: number; json: string }[];
    if (rows.length === 0) break;
    for (const row of rows) fn(row.id, JSON.parse(row.json) as T);
    after = rows[rows.length - 1].id;
  }
}

/** Brings `db` (already holding the first schema) up to date, each step in its own transaction. */
export function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  for (let v = version; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      MIGRATIONS[v](db);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
