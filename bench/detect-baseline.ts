// This checkout's detector against another checkout's (an earlier commit, its node_modules installed), in one
// process, on the same inputs with the same identifiers: the requests both corpora share (the labelled
// corpus's first ones) and the telemetry batches, 50 and 1,000 identifiers. The two detectors take turns pass
// by pass (A B A B …) after a warm-up and each reports its median pass, so a busy machine slows both alike;
// then each request's best time of 30 turns, summed, which a busy machine disturbs least.
//   BENCH_DETECT_BASELINE=/path/to/checkout node --import tsx bench/detect-baseline.ts   (or bench/detect.ts: its report, then this)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createDetector, type ScanInput } from '../proxy/detect';
import type { Identifiers } from '../shared/identifiers';
import { identifiersWith, telemetryBatches, throughputs, wireBytes } from './detect';
import { loadCorpus, toInput, type CorpusRequest } from '../test/detect/corpus-eval';

type CreateDetector = typeof createDetector;

/** The labelled requests the baseline's corpus has too, checked to be the same bytes. */
function sharedRequests(baselineDir: string, requests: CorpusRequest[]): ScanInput[] {
  const theirs = JSON.parse(readFileSync(join(baselineDir, 'test/fixtures/corpus.json'), 'utf8')) as CorpusRequest[];
  const same = (a: CorpusRequest, b: CorpusRequest) => a.method === b.method && a.url === b.url && a.body === b.body && JSON.stringify(a.headers) === JSON.stringify(b.headers);
  const count = theirs.length;
  for (let i = 0; i < count; i++) if (!same(theirs[i], requests[i])) throw new Error(`corpus request ${i} differs from the baseline's`);
  return requests.slice(0, count).map(toInput);
}

/** Turns of every request, each detector in turn, for `bestTimes`. */
const BEST_OF_TURNS = 30;

/**
 * Each detector's time for the corpus as the sum of each request's best time over BEST_OF_TURNS turns: other
 * work on a shared machine only ever adds time, so a request's fastest scan is the one it disturbed least.
 */
async function bestTimes(scans: ((input: ScanInput) => Promise<unknown>)[], inputs: ScanInput[]): Promise<number[]> {
  const best = scans.map(() => inputs.map(() => Infinity));
  for (let turn = 0; turn < BEST_OF_TURNS; turn++) {
    for (let k = 0; k < scans.length; k++) {
      for (let i = 0; i < inputs.length; i++) {
        const start = performance.now();
        await scans[k](inputs[i]);
        best[k][i] = Math.min(best[k][i], performance.now() - start);
      }
    }
  }
  return best.map((times) => times.reduce((a, b) => a + b, 0));
}

async function compare(name: string, inputs: ScanInput[], ids: Identifiers, baseline: CreateDetector): Promise<void> {
  const bytes = inputs.reduce((n, r) => n + wireBytes(r), 0);
  const theirs = baseline(ids);
  const ours = createDetector(ids);
  const scans = [(i: ScanInput) => theirs.scanRequest(i), (i: ScanInput) => ours.scanRequest(i)];
  const [before, after] = await throughputs(scans, inputs, bytes);
  const [theirBest, ourBest] = await bestTimes(scans, inputs);
  console.log(
    `  ${name.padEnd(44)} baseline ${before.toFixed(1).padStart(6)} MB/s, this ${after.toFixed(1).padStart(6)} MB/s: ${(after / before).toFixed(2)}×` +
      ` (best per request, summed: ${(theirBest / ourBest).toFixed(2)}×)`,
  );
}

export async function compareWithBaseline(baselineDir: string): Promise<void> {
  const module = (await import(pathToFileURL(join(baselineDir, 'proxy/detect/index.ts')).href)) as { createDetector: CreateDetector };
  const { requests, identifiers } = loadCorpus();
  const small = sharedRequests(baselineDir, requests);
  const large = telemetryBatches(identifiers);
  console.log(`against the detector in ${baselineDir} (same process, same inputs, same identifiers):`);
  for (const n of [50, 1000]) {
    const ids = identifiersWith(identifiers, n);
    await compare(`small (first ${small.length} corpus requests), ${n} ids`, small, ids, module.createDetector);
    await compare(`large (telemetry batches), ${n} ids`, large, ids, module.createDetector);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const dir = process.env.BENCH_DETECT_BASELINE;
  if (!dir) throw new Error('set BENCH_DETECT_BASELINE to the checkout to compare with');
  await compareWithBaseline(dir);
}
