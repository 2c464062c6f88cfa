// What the offline commands (export, sessions, diff, report) share: the data dir's flows database, opened only if
// it is there, and session names checked against it (exit 2 naming the sessions there are).
import fs from 'node:fs';
import path from 'node:path';
import { FlowStore } from '../store/flow-store';
import { SessionError, type SessionRef } from '../store/session-log';
import { resolveDataDir } from './data-dir';
import { UsageError } from './errors';

export function openStoredFlows(dataDirFlag: string | undefined): { store: FlowStore; dataDir: string } {
  const dataDir = resolveDataDir(dataDirFlag);
  if (!fs.existsSync(path.join(dataDir, 'flows.db'))) throw new UsageError(`--data-dir ${dataDir}: no captured flows there (flows.db missing)`);
  return { store: new FlowStore(dataDir), dataDir };
}

/** The session `ref` names; an unknown one is bad usage. */
export function sessionArg(store: FlowStore, ref: string): SessionRef {
  try {
    return store.sessions.require(ref);
  } catch (err) {
    if (err instanceof SessionError) throw new UsageError(err.message);
    throw err;
  }
}

/** Runs `fn` on the stored flows of `--data-dir`, closing the store after it, also on failure. */
export async function withStoredFlows<T>(dataDirFlag: string | undefined, fn: (store: FlowStore, dataDir: string) => T | Promise<T>): Promise<T> {
  const { store, dataDir } = openStoredFlows(dataDirFlag);
  try {
    return await fn(store, dataDir);
  } finally {
    store.close();
  }
}
