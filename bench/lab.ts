// Flows per second into a lab's shared PostgreSQL (issue 16), with one instance and with two writing at once.
// A throwaway cluster (test/helpers/postgres.ts), a fresh database per configuration. The write path is driven
// directly (PgFlowStore.commit, as the pipeline's flowWriter calls it), not through proxies: on this 2-core machine
// two proxies, their load generator and the server would share the cores, and the proxies' CPU, not PostgreSQL's
// writes, would set the figure; the proxies' own rate is bench/proxies.ts's. Each instance has WRITERS phones,
// each committing its next flow once the last is committed (a response ends only once its flow is stored), so
// flows arrive batched as they would from WRITERS connections. Both instances run in this process, each with its
// own pool: their transactions interleave and contend in the server as two machines' would.
//   node --import tsx bench/lab.ts
import { pathToFileURL } from 'node:url';
import { PgFlowStore } from '../proxy/store/pg-store';
import { startPostgres, type TestPostgres } from '../test/helpers/postgres';
import { seedFlow } from './dashboard';

const WRITERS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
/** a bound on the count too: at most this many flows an instance */
const MAX_FLOWS = 200_000;
const INDEX_WAIT_S = 120;

export interface LabRate {
  instances: number;
  flows: number;
  seconds: number;
  perSecond: number;
  /** seconds from the last commit until every flow's text was in the trigram-indexed flow_text */
  indexedAfter: number;
}

async function writeFor(store: PgFlowStore, until: number, offset: number): Promise<number> {
  let n = 0;
  const now = Date.now();
  await Promise.all(
    Array.from({ length: WRITERS }, async (_, w) => {
      for (let i = w; Date.now() < until && n < MAX_FLOWS; i += WRITERS) {
        await store.commit({ ...seedFlow(offset + i, now), id: offset + i + 1 }, 'bench');
        n++;
      }
    }),
  );
  return n;
}

async function rate(pg: TestPostgres, instances: number): Promise<LabRate> {
  const url = pg.createDatabase(`bench_lab_${instances}_${Date.now()}`);
  const stores = await Promise.all(Array.from({ length: instances }, (_, i) => PgFlowStore.open(url, `rack-${i + 1}`)));
  try {
    // warm-up: sessions made, pools connected, plans cached
    await Promise.all(stores.map((s) => writeFor(s, Date.now() + 1000, 10_000_000).then(() => undefined)));
    const started = performance.now();
    const counts = await Promise.all(stores.map((s, i) => writeFor(s, Date.now() + SECONDS * 1000, i * 1_000_000)));
    const seconds = (performance.now() - started) / 1000;
    const flows = counts.reduce((a, b) => a + b, 0);
    const db = url.slice(url.lastIndexOf('/') + 1);
    const indexedAfter = await untilIndexed(pg, db);
    const stored = Number(pg.query(db, 'SELECT count(*) FROM flows'));
    if (stored < flows) throw new Error(`bench/lab: ${flows} flows committed but ${stored} in the database`);
    return { instances, flows, seconds, perSecond: flows / seconds, indexedAfter };
  } finally {
    await Promise.all(stores.map((s) => s.close()));
  }
}

/** Seconds until flow_text_pending is empty (pg-text-mover.ts), at most INDEX_WAIT_S. */
async function untilIndexed(pg: TestPostgres, db: string): Promise<number> {
  const started = performance.now();
  while (Number(pg.query(db, 'SELECT count(*) FROM flow_text_pending')) > 0) {
    if (performance.now() - started > INDEX_WAIT_S * 1000) throw new Error(`bench/lab: flow texts still pending after ${INDEX_WAIT_S} s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return (performance.now() - started) / 1000;
}

/** Flows per second with one instance, then with two writing at once. */
export async function benchLab(): Promise<LabRate[]> {
  const pg = await startPostgres();
  try {
    return [await rate(pg, 1), await rate(pg, 2)];
  } finally {
    pg.stop();
  }
}

export function labReport(rates: LabRate[]): string[] {
  const [one, two] = rates;
  return [
    `lab, flows into PostgreSQL (PgFlowStore write path, ${WRITERS} writers an instance, ${SECONDS} s): one instance ${one.perSecond.toFixed(0)} flows/s (${one.flows}), all indexed ${one.indexedAfter.toFixed(1)} s after the last`,
    `lab, two instances at once: ${two.perSecond.toFixed(0)} flows/s together (${two.flows}), ${(two.perSecond / one.perSecond).toFixed(2)}× one instance, all indexed ${two.indexedAfter.toFixed(1)} s after the last`,
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const line of labReport(await benchLab())) console.log(line);
}
