// Reader-level tests run over both engines of a store: the same flows, captured by one instance into its own
// SQLite store, read back through the FlowReader its dashboard uses (sqliteReader) and through the one a lab's
// dashboard node uses (PgFlowReader over a database they reached the way an instance's flows do: its
// flowWriter and SharedMirror into PgFlowStore).
import { afterAll, beforeAll } from 'vitest';
import type { Flow } from '../../shared/types';
import { sqliteReader, type FlowReader } from '../../proxy/store/flow-reader';
import { FlowStore } from '../../proxy/store/flow-store';
import { flowWriter } from '../../proxy/store/flow-writer';
import { PgFlowReader } from '../../proxy/store/pg-reader';
import { PgFlowStore } from '../../proxy/store/pg-store';
import { SharedMirror } from '../../proxy/store/shared-mirror';
import { tempDir } from './leakscope';
import type { TestPostgres } from './postgres';

export const ENGINES = ['sqlite', 'postgres'] as const;
export type Engine = (typeof ENGINES)[number];

export interface EngineFlows {
  engine: Engine;
  reader: FlowReader;
  /** the capturing instance's own store, where what stays local (marks) is set */
  local: FlowStore;
  /** the reader's id of the n-th flow stored (1-based) */
  id(n: number): number;
  /** stores one more flow as `capture` did */
  add(draft: Omit<Flow, 'id'>): Promise<Flow>;
  /** rewrites a stored flow (by its local id) as the pipeline does: an open tunnel that found more */
  update(flow: Flow): Promise<unknown>;
}

export interface Capture {
  local: FlowStore;
  /** stores a flow as the pipeline does, and in the shared store when there is one */
  add(draft: Omit<Flow, 'id'>): Promise<Flow>;
}

let databases = 0;

/**
 * For the enclosing describe block: what `capture` stores, by instance `instance`, read through `engine`'s
 * reader. `pg` (a cluster of the test file, postgresForTests) is read only for the postgres engine.
 */
export function capturedIn(engine: Engine, pg: { pg: TestPostgres }, capture: (c: Capture) => Promise<void>, instance = 'rack-t'): EngineFlows {
  const env = { engine } as EngineFlows;
  const closers: (() => unknown)[] = [];
  beforeAll(async () => {
    const local = new FlowStore(tempDir(), { outbox: engine === 'postgres' });
    closers.push(() => local.close());
    let mirror: SharedMirror | undefined;
    let url = '';
    if (engine === 'postgres') {
      url = pg.pg.createDatabase(`engines_${process.pid}_${++databases}`);
      const shared = await PgFlowStore.open(url, instance);
      mirror = new SharedMirror(local, local.outbox!, shared, () => undefined);
      closers.unshift(() => shared.close());
    }
    const writer = flowWriter(local, instance, mirror);
    const stored: number[] = [];
    // Added one at a time or in one turn (one transaction in each store), the shared store's order (seq) is the local one.
    const add = (draft: Omit<Flow, 'id'>) => writer.commit(draft);
    await capture({ local, add: (draft) => add(draft).then((f) => (stored.push(f.id), f)) });
    if (local.outbox && local.outbox.size() > 0) throw new Error(`${local.outbox.size()} flows still wait for PostgreSQL`);
    let reader: FlowReader = sqliteReader(local, instance);
    let ids = stored;
    if (engine === 'postgres') {
      const pgReader = await PgFlowReader.open(url);
      closers.unshift(() => pgReader.close());
      reader = pgReader;
      ids = (await pgReader.summaries({ after: 0, limit: 5000 })).map((f) => f.id);
      if (ids.length !== stored.length) throw new Error(`${ids.length} flows in PostgreSQL, ${stored.length} stored`);
    }
    Object.assign(env, { reader, local, id: (n: number) => ids[n - 1], add, update: async (flow: Flow) => writer.update(flow) });
  }, 120_000);
  afterAll(async () => {
    for (const close of closers) await close();
  });
  return env;
}

/** Every item an async iterable yields. */
export async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
