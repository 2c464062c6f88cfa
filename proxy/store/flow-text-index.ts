// Keeps the full-text index (table flow_text, rowid = flow id) in step with the flows table.
import type Database from 'better-sqlite3';
import type { Flow } from '../../shared/types';
import { flowText } from '../filter/flow-text';

/** (Re)writes the indexed text of one flow. */
export function flowTextIndexer(db: Database.Database): (id: number, flow: Flow) => void {
  const remove = db.prepare('DELETE FROM flow_text WHERE rowid = ?');
  const insert = db.prepare('INSERT INTO flow_text (rowid, url, req_headers, res_headers, req_body, res_body) VALUES (?, ?, ?, ?, ?, ?)');
  return (id, flow) => {
    const t = flowText(flow);
    remove.run(id);
    insert.run(id, t.url, t.reqHeaders, t.resHeaders, t.reqBody, t.resBody);
  };
}

/** How long a flow's text may wait to be indexed; a search comes sooner only by asking (`flush`). */
const INDEX_DELAY_MS = 250;

/**
 * The index, written behind the flows: a flow is on disk (and its phone answered) without waiting for its
 * text to be indexed, which cost a quarter of the proxy's throughput at 1 KiB when it sat in each commit.
 * Pending texts go in together, in one transaction; a search flushes them first, so it never misses a stored
 * flow; a process killed before they went in has them indexed when the store is next opened (`catchUp`).
 */
export class DeferredTextIndex {
  private readonly pending = new Map<number, Flow>();
  private timer: NodeJS.Timeout | undefined;
  private readonly writeAll: (items: [number, Flow][]) => void;
  private readonly index: (id: number, flow: Flow) => void;

  constructor(private readonly db: Database.Database) {
    this.index = flowTextIndexer(db);
    this.writeAll = db.transaction((items: [number, Flow][]) => {
      for (const [id, flow] of items) this.index(id, flow);
    });
  }

  add(id: number, flow: Flow): void {
    this.pending.set(id, flow);
    if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), INDEX_DELAY_MS);
      this.timer.unref();
    }
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0 || !this.db.open) return;
    const items = [...this.pending];
    this.pending.clear();
    this.writeAll(items);
  }

  /** Indexes the flows stored after the newest indexed one: those a crash left out. */
  catchUp(): void {
    const page = this.db.prepare('SELECT id, flow FROM flows WHERE id > ? ORDER BY id LIMIT 500');
    const newest = (this.db.prepare('SELECT coalesce(max(rowid), 0) AS id FROM flow_text').get() as { id: number }).id;
    for (let after = newest; ; ) {
      const rows = page.all(after) as { id: number; flow: string }[];
      if (rows.length === 0) return;
      this.writeAll(rows.map((r) => [r.id, JSON.parse(r.flow) as Flow]));
      after = rows[rows.length - 1].id;
    }
  }
}
