// How late the event loop runs, over the last complete window: a histogram (perf_hooks) read and reset every
// WINDOW_MS, so GET /api/stats can report it without the read itself changing anything.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { LoopDelay } from '../../shared/api';

const WINDOW_MS = 10_000;
const RESOLUTION_MS = 10;
let last: LoopDelay = { meanMs: 0, p99Ms: 0, maxMs: 0, windowMs: WINDOW_MS };
let started = false;

/** The delay over the last complete window; the monitor starts on first use and lives with the process. */
export function eventLoopDelay(): LoopDelay {
  if (!started) {
    started = true;
    const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    histogram.enable();
    setInterval(() => {
      // The histogram records the time between its timer's ticks: the delay is what exceeds the resolution.
      const ms = (ns: number) => Math.max(0, Math.round((ns / 1e6 - RESOLUTION_MS) * 100) / 100);
      last = { meanMs: ms(histogram.mean), p99Ms: ms(histogram.percentile(99)), maxMs: ms(histogram.max), windowMs: WINDOW_MS };
      histogram.reset();
    }, WINDOW_MS).unref();
  }
  return last;
}
