// The full-text index (FTS5 trigram, table flow_text, rowid = flow id) over the stored flows. It lives in a file
// of its own beside flows.db, attached to the store's connection for searching and written by a worker thread
// (./flow-text-worker.mjs): tokenizing a flow cost the proxy's thread a quarter of its throughput at 1 KiB. It is
// derived data: a file that is missing or behind the flows is filled from them when the store opens.
import type Database from 'better-sqlite3';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Flow } from '../../shared/types';
import { flowText } from '../filter/flow-text';
import { log } from '../log';

export const TEXT_INDEX_FILE = 'flow-text.db';

// Unqualified names: in the store's connection they find the attached file (flows.db has no such table), in the
// worker's connection the file is the main database.
const SQL = {
  remove: 'DELETE FROM flow_text WHERE rowid = ?',
  insert: 'INSERT INTO flow_text (rowid, url, req_headers, res_headers, req_body, res_body) VALUES (?, ?, ?, ?, ?, ?)',
};

type TextRow = [id: number, url: string, reqHeaders: string, resHeaders: string, reqBody: string, resBody: string];

function textRow(id: number, flow: Flow): TextRow {
  const t = flowText(flow);
  return [id, t.url, t.reqHeaders, t.resHeaders, t.reqBody, t.resBody];
}

/** How long a flow's text may wait to be sent to the index; a search comes sooner only by asking (`flush`). */
const INDEX_DELAY_MS = 250;
/** A search waits at most this long for the index's thread before it fails with an error. */
const WAIT_MS = 30_000;

/**
 * The index's thread and what it has been sent. `done` is shared with it: [0] counts the rows it has written (or
 * given up on), [1] turns 1 once it has closed its connection.
 */
interface IndexThread {
  worker: Worker;
  done: Int32Array;
  sent: number;
  /** batches sent and not yet written, so that a thread that dies loses none of them */
  inFlight: { end: number; rows: TextRow[] }[];
}

/**
 * The index, written behind the flows: a flow is on disk (and its phone answered) without waiting for its text.
 * Pending texts go to the thread together; a search flushes them and waits until they are written, so it never
 * misses a stored flow; a process killed before they went in has them indexed when the store is next opened.
 */
export class FlowTextIndex {
  private pending: TextRow[] = [];
  private timer: NodeJS.Timeout | undefined;
  private thread: IndexThread | undefined;
  private readonly file: string;
  private readonly writeHere: (rows: TextRow[]) => void;

  constructor(
    private readonly db: Database.Database,
    dataDir: string,
  ) {
    this.file = path.join(dataDir, TEXT_INDEX_FILE);
    db.prepare('ATTACH DATABASE ? AS fts').run(this.file);
    db.pragma('fts.journal_mode = WAL');
    db.exec(`CREATE VIRTUAL TABLE IF NOT EXISTS fts.flow_text USING fts5(url, req_headers, res_headers, req_body, res_body, tokenize = 'trigram')`);
    const remove = db.prepare(SQL.remove);
    const insert = db.prepare(SQL.insert);
    this.writeHere = db.transaction((rows: TextRow[]) => {
      for (const row of rows) {
        remove.run(row[0]);
        insert.run(...row);
      }
    });
  }

  add(id: number, flow: Flow): void {
    this.pending.push(textRow(id, flow));
    if (!this.timer) {
      this.timer = setTimeout(() => this.send(), INDEX_DELAY_MS);
      this.timer.unref();
    }
  }

  /** Returns once every text handed to `add` is in the index. */
  flush(): void {
    this.send();
    const thread = this.thread;
    if (!thread) return;
    for (let written = Atomics.load(thread.done, 0); written < thread.sent; written = Atomics.load(thread.done, 0)) {
      if (Atomics.wait(thread.done, 0, written, WAIT_MS) === 'timed-out') throw new Error(`the full-text index did not answer within ${WAIT_MS / 1000} s`);
    }
    thread.inFlight = [];
  }

  /** Indexes the flows stored after the newest indexed one: those a crash left out, or all of them in a new file. */
  catchUp(): void {
    const page = this.db.prepare('SELECT id, flow FROM flows WHERE id > ? ORDER BY id LIMIT 500');
    const newest = (this.db.prepare('SELECT coalesce(max(rowid), 0) AS id FROM flow_text').get() as { id: number }).id;
    for (let after = newest; ; ) {
      const rows = page.all(after) as { id: number; flow: string }[];
      if (rows.length === 0) return;
      this.writeHere(rows.map((r) => textRow(r.id, JSON.parse(r.flow) as Flow)));
      after = rows[rows.length - 1].id;
    }
  }

  close(): void {
    this.flush();
    const thread = this.thread;
    this.thread = undefined;
    if (!thread) return;
    // Waited for, so that once the store is closed its files are too.
    thread.worker.postMessage(null);
    Atomics.wait(thread.done, 1, 0, WAIT_MS);
  }

  private send(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const rows = this.pending;
    this.pending = [];
    const thread = (this.thread ??= this.start());
    thread.sent += rows.length;
    thread.inFlight.push({ end: thread.sent, rows });
    thread.worker.postMessage(rows);
  }

  private start(): IndexThread {
    const done = new Int32Array(new SharedArrayBuffer(8));
    const worker = new Worker(new URL('./flow-text-worker.mjs', import.meta.url), { workerData: { file: this.file, sql: SQL, done: done.buffer } });
    worker.unref();
    const thread: IndexThread = { worker, done, sent: 0, inFlight: [] };
    worker.on('message', (m: { rows: number; error?: string }) => {
      const written = Atomics.load(done, 0);
      thread.inFlight = thread.inFlight.filter((b) => b.end > written);
      if (m.error) log.error({ flows: m.rows, err: m.error }, 'full-text index: flows left out of search');
    });
    worker.on('error', (err) => log.error({ err }, 'full-text index: its thread failed'));
    worker.on('exit', () => {
      if (this.thread !== thread) return;
      // Died on its own: what it had not written is written here, and the next texts start a new thread.
      this.thread = undefined;
      const written = Atomics.load(done, 0);
      const lost = thread.inFlight.filter((b) => b.end > written).flatMap((b) => b.rows);
      if (lost.length > 0 && this.db.open) this.writeHere(lost);
    });
    return thread;
  }
}
