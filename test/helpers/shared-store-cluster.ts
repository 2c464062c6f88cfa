// vitest globalSetup of the suite's postgres pass (./shared-store.ts): one throwaway cluster for every test file,
// each leakscope on a database of its own in it, copied from a template the shared store's migrations have made
// (a copy takes a fraction of what migrating a fresh one does; each start still runs them, and finds them done).
import type { TestProject } from 'vitest/node';
import { openPool } from '../../proxy/store/pg-store';
import { startPostgres, type TestPostgres } from './postgres';

export const SHARED_STORE_TEMPLATE = 'suite_template';

let cluster: TestPostgres | undefined;

export async function setup(project: TestProject): Promise<void> {
  cluster = await startPostgres();
  const base = `postgres://postgres@127.0.0.1:${cluster.port}/`;
  await (await openPool(cluster.createDatabase(SHARED_STORE_TEMPLATE))).end();
  project.provide('sharedStoreCluster', base);
}

export function teardown(): void {
  cluster?.stop();
}
