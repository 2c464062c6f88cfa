// The thread that writes the full-text index (./flow-text-index.ts): tokenizing a flow into trigrams cost the
// proxy's thread a quarter of its throughput at 1 KiB, so it happens here, on another core, over a connection
// of its own to the index's file. Plain JavaScript: a worker thread loads it without the TypeScript loader, in
// the CLI and under the test runner alike. Its SQL comes from the main thread, so it is written once.
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';

const { file, sql, done } = workerData;
const counter = new Int32Array(done);
const db = new Database(file);
// WAL is the file's own setting, made by the store when it attached it; synchronous is this connection's.
db.pragma('synchronous = NORMAL');
const remove = db.prepare(sql.remove);
const insert = db.prepare(sql.insert);
const writeAll = db.transaction((rows) => {
  for (const row of rows) {
    remove.run(row[0]);
    insert.run(...row);
  }
});

parentPort.on('message', (rows) => {
  // The store closing: the connection is closed here, so the file is left whole (its log checkpointed).
  if (rows === null) {
    db.close();
    Atomics.store(counter, 1, 1);
    Atomics.notify(counter, 1);
    parentPort.close();
    return;
  }
  let error;
  try {
    writeAll(rows);
  } catch (err) {
    error = String(err?.message ?? err);
  }
  // Counted even when it failed: a search waiting on this batch must not wait for ever.
  Atomics.add(counter, 0, rows.length);
  Atomics.notify(counter, 0);
  parentPort.postMessage({ rows: rows.length, error });
});
