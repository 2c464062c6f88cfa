// Schema changes after the first one, in order; `PRAGMA user_version` records how many a database has had.
// A database written before a change opens with the new code and keeps every flow.
import type Database from 'better-sqlite3';
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
];

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
