// The suite's second pass (LEAKSCOPE_TEST_STORE=postgres, the `postgres` project in vitest.config.ts): every
// leakscope a test starts, in process or as the CLI, also writes a lab's shared store, a fresh database per data
// dir on one throwaway cluster (./shared-store-cluster.ts). After the test file, each database must hold exactly
// the flows that data dir's own store got while it ran (apart from the shared store's own id and session
// numbering): each once, the same; missing only while it waits in the outbox; twice only after a kill -9; in
// sessions that pair one to one with the local ones; and the same markers.
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, expect, inject } from 'vitest';
import type { Flow } from '../../shared/types';
import { SHARED_STORE_TEMPLATE } from './shared-store-cluster';

declare module 'vitest' {
  export interface ProvidedContext {
    /** the shared store cluster's base URL, without a database */
    sharedStoreCluster: string;
  }
}

export const SHARED_STORE = process.env.LEAKSCOPE_TEST_STORE === 'postgres';

interface Mirrored {
  url: string;
  /** the highest local flow and marker ids before the first run on it: those from before had no shared store */
  before: { flow: number; marker: number };
  /** each leakscope started on the data dir: resolves once it has stopped */
  stopped: (() => Promise<unknown>)[];
}

const mirrored = new Map<string, Mirrored>();
let databases = 0;

/** The shared store for a leakscope on `dataDir` (the same for each run on it), or undefined in the SQLite pass. */
export async function sharedStoreFor(dataDir: string): Promise<string | undefined> {
  if (!SHARED_STORE) return undefined;
  const key = path.resolve(dataDir);
  let entry = mirrored.get(key);
  if (!entry) {
    const base = inject('sharedStoreCluster');
    const name = `suite_${process.pid}_${++databases}`;
    const admin = new pg.Client({ connectionString: `${base}postgres` });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${name} TEMPLATE ${SHARED_STORE_TEMPLATE}`);
    } finally {
      await admin.end();
    }
    entry = { url: `${base}${name}`, before: lastLocalIds(key), stopped: [] };
    mirrored.set(key, entry);
  }
  return entry.url;
}

/** Has the check wait for this run on `dataDir` to end (an app closed, a CLI exited) before it compares. */
export function whenStopped(dataDir: string, stopped: () => Promise<unknown>): void {
  mirrored.get(path.resolve(dataDir))?.stopped.push(stopped);
}

/** `read` over the data dir's own store, opened read-only; `empty` when it has none yet. */
function readLocal<T>(dataDir: string, empty: T, read: (db: Database.Database) => T): T {
  const file = path.join(dataDir, 'flows.db');
  if (!fs.existsSync(file)) return empty;
  const db = new Database(file, { readonly: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

const lastLocalIds = (dataDir: string) =>
  readLocal(dataDir, { flow: 0, marker: 0 }, (db) =>
    db.prepare('SELECT coalesce((SELECT MAX(id) FROM flows), 0) AS flow, coalesce((SELECT MAX(id) FROM markers), 0) AS marker').get() as { flow: number; marker: number },
  );


const localFlows = (dataDir: string, after: number) =>
  readLocal(dataDir, [], (db) => (db.prepare('SELECT flow FROM flows WHERE id > ? ORDER BY id').all(after) as { flow: string }[]).map((r) => JSON.parse(r.flow) as Flow));

const localMarkers = (dataDir: string, after: number) =>
  readLocal(dataDir, [], (db) => db.prepare('SELECT s.name AS session, m.time, m.text FROM markers m JOIN sessions s ON s.id = m.session_id WHERE m.id > ? ORDER BY m.time, m.id').all(after));

/** The flows the outbox holds: stored locally, not yet known to be in the shared store. */
const waitingLocally = (dataDir: string) =>
  readLocal(dataDir, new Set<number>(), (db) => new Set((db.prepare('SELECT flow_id AS id FROM shared_outbox').all() as { id: number }[]).map((r) => r.id)));

/** A flow as both stores hold it, without what each store numbers its own way. */
function content(flow: Flow): Omit<Flow, 'id' | 'session'> {
  const { id: _id, session: _session, ...rest } = flow;
  return rest;
}

/**
 * Pairs of sessions, local and shared, that the same flow is in: each local session must be one shared session
 * and each shared one one local. (Names are not compared: a session renamed in its instance keeps its old name in
 * the shared store, which other instances may use.)
 */
function sameSessions(pairs: [number | undefined, number | undefined][], where: string): void {
  const sharedOf = new Map<number | undefined, Set<number | undefined>>();
  const localOf = new Map<number | undefined, Set<number | undefined>>();
  for (const [local, shared] of pairs) {
    sharedOf.set(local, (sharedOf.get(local) ?? new Set()).add(shared));
    localOf.set(shared, (localOf.get(shared) ?? new Set()).add(local));
  }
  for (const [local, shared] of sharedOf) expect([...shared], `${where}: the shared sessions of local session ${local}`).toHaveLength(1);
  for (const [shared, local] of localOf) expect([...local], `${where}: the local sessions of shared session ${shared}`).toHaveLength(1);
}

async function compare(dataDir: string, entry: Mirrored): Promise<void> {
  const ends: unknown[] = [];
  for (const stopped of entry.stopped) ends.push(await stopped());
  // A run killed between PostgreSQL's commit of a flow and the outbox's record of it sends the flow again at the
  // next start: the one duplicate the README admits (Lab section), allowed here only after a kill -9.
  const killed = ends.includes('SIGKILL');
  const local = localFlows(dataDir, entry.before.flow);
  const waiting = waitingLocally(dataDir);
  const client = new pg.Client({ connectionString: entry.url });
  await client.connect();
  let shared: { local_id: string; flow: Flow }[];
  let sharedMarkers: unknown[];
  try {
    shared = (await client.query('SELECT local_id, flow FROM flows ORDER BY local_id, id')).rows;
    sharedMarkers = (await client.query(`SELECT s.name AS session, m.time::float8 AS time, m.text FROM markers m JOIN sessions s ON s.id = m.session_id ORDER BY m.time, m.id`)).rows;
  } finally {
    await client.end();
  }
  const byLocalId = new Map<number, Flow[]>();
  for (const row of shared) byLocalId.set(Number(row.local_id), [...(byLocalId.get(Number(row.local_id)) ?? []), row.flow]);
  const where = `the shared store of ${dataDir}`;
  expect([...byLocalId.keys()].filter((id) => !local.some((f) => f.id === id)), `${where}: flows the local store lacks`).toEqual([]);
  const sessions: [number | undefined, number | undefined][] = [];
  for (const flow of local) {
    const { id, url } = flow;
    const copies = byLocalId.get(id) ?? [];
    if (copies.length === 0) {
      expect(waiting.has(id), `${where}: local flow ${id} (${url}) is neither there nor waiting in the outbox`).toBe(true);
      continue;
    }
    if (!killed) expect(copies.length, `${where}: copies of local flow ${id}`).toBe(1);
    for (const copy of copies) {
      expect(content(copy), `${where}: local flow ${id}`).toEqual(content(flow));
      sessions.push([flow.session, copy.session]);
    }
  }
  sameSessions(sessions, where);
  expect(sharedMarkers, `${where}: the markers`).toEqual(localMarkers(dataDir, entry.before.marker));
}

/** Registered for each test file of the postgres pass (vitest setupFiles): the check, after the file's own hooks. */
export function checkSharedStoresAfterEachFile(): void {
  afterAll(async () => {
    for (const [dataDir, entry] of mirrored) await compare(dataDir, entry);
    mirrored.clear();
  }, 120_000);
}
