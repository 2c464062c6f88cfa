// The flows of an instance that a lab's shared store has yet to get: their ids, in the instance's own SQLite file
// (the flows are there already), added in each flow's own transaction and removed once PostgreSQL has committed it.
// So a flow whose response completed reaches the shared store whatever happens between: PostgreSQL away for an
// hour, the proxy killed, the machine restarted. Bounded by the disk, as the local store is: 8 bytes a flow more.
import type Database from 'better-sqlite3';

export class SharedOutbox {
  private readonly insert: Database.Statement;
  private readonly page: Database.Statement;
  private readonly removeAll: (ids: number[]) => void;
  /** committed to the shared store, removed in the next turn: one SQLite commit for a turn's flows, not one each */
  private readonly sent = new Set<number>();
  private flushing = false;

  constructor(private readonly db: Database.Database) {
    this.insert = db.prepare('INSERT OR IGNORE INTO shared_outbox (flow_id) VALUES (?)');
    this.page = db.prepare('SELECT flow_id AS id FROM shared_outbox WHERE flow_id > ? ORDER BY flow_id LIMIT ?');
    const remove = db.prepare('DELETE FROM shared_outbox WHERE flow_id = ?');
    this.removeAll = db.transaction((ids: number[]) => ids.forEach((id) => remove.run(id)));
  }

  /** A flow (new, or rewritten) the shared store must get. */
  add(id: number): void {
    this.insert.run(id);
  }

  /** The shared store has committed these. */
  done(ids: number[]): void {
    for (const id of ids) this.sent.add(id);
    if (this.flushing) return;
    this.flushing = true;
    setImmediate(() => this.flush());
  }

  flush(): void {
    this.flushing = false;
    if (this.sent.size === 0 || !this.db.open) return;
    const ids = [...this.sent];
    this.sent.clear();
    this.removeAll(ids);
  }

  /** Up to `limit` waiting ids, oldest first, after `after`; those already sent are left out. */
  waiting(limit: number, after = 0): number[] {
    return (this.page.all(after, limit + this.sent.size) as { id: number }[]).map((r) => r.id).filter((id) => !this.sent.has(id)).slice(0, limit);
  }

  size(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM shared_outbox').get() as { n: number }).n - this.sent.size;
  }
}
