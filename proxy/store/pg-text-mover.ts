// Moves flows' searchable text from flow_text_pending, where each flow's own transaction writes it, to flow_text and
// its pg_trgm indexes, in large batches off the commit path (pg-migrate.ts, migration 5): the phone's response no
// longer waits on five GIN indexes. Search reads both tables, so a flow is found from its commit on. Any instance
// moves any instance's rows (SKIP LOCKED: two movers never wait on each other), so what a stopped instance left is
// moved by the next one that writes.
import type pg from 'pg';

const BATCH = 5000;
/** after a commit, before moving: long enough to gather a batch, short against a search's scan of the pending rows */
const DELAY_MS = 200;

const MOVE = `WITH moved AS (
    DELETE FROM flow_text_pending WHERE flow_id IN (SELECT flow_id FROM flow_text_pending ORDER BY flow_id LIMIT $1 FOR UPDATE SKIP LOCKED)
    RETURNING flow_id, url, req_headers, res_headers, req_body, res_body)
  INSERT INTO flow_text SELECT * FROM moved
  ON CONFLICT (flow_id) DO UPDATE SET url = excluded.url, req_headers = excluded.req_headers, res_headers = excluded.res_headers,
                                      req_body = excluded.req_body, res_body = excluded.res_body`;

export class TextMover {
  private timer: NodeJS.Timeout | undefined;
  private moving: Promise<void> | undefined;
  private again = false;
  private closed = false;

  constructor(private readonly pool: pg.Pool) {}

  /** Text was committed to flow_text_pending: move it soon. */
  poke(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.run();
    }, DELAY_MS);
  }

  private run(): void {
    if (this.moving) return void (this.again = true);
    // PostgreSQL away: the rows wait where they are, searchable, and the next commit pokes again.
    this.moving = this.moveAll()
      .catch(() => undefined)
      .finally(() => {
        this.moving = undefined;
        if (this.again) (this.again = false), this.poke();
      });
  }

  private async moveAll(): Promise<void> {
    for (;;) {
      const { rowCount } = await this.pool.query(MOVE, [BATCH]);
      if ((rowCount ?? 0) < BATCH) return;
    }
  }

  /** Moves what this process wrote and had yet to move (the rest waits, searchable, for the next mover). */
  async close(): Promise<void> {
    this.closed = true;
    const due = this.timer !== undefined || this.again;
    clearTimeout(this.timer);
    await this.moving;
    if (due) await this.moveAll().catch(() => undefined);
  }
}
