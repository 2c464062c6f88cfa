// Kept apart from hub.ts so the CLI can refuse bad usage before it loads the proxy's modules.
import os from 'node:os';
import { UsageError } from '../cli/errors';

/** At most this many proxy workers: beyond it, the primary's one store writer is the bound, not the cores. */
const MAX_WORKERS = 64;

/** What `--workers auto` picks at most: past about this many, the primary's thread caps a lab server (README, Performance). */
const AUTO_WORKERS_CAP = 8;

/** `--workers` as given: a whole number, or `auto` (resolved by resolveWorkers once the modes are known). */
export function parseWorkers(value: string): number | 'auto' {
  if (value === 'auto') return 'auto';
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > MAX_WORKERS) throw new UsageError(`--workers ${value}: expected auto or a whole number from 1 to ${MAX_WORKERS}`);
  return n;
}

/**
 * `auto` is the core count up to AUTO_WORKERS_CAP, and 1 beside another capture mode, which one process alone can
 * own (a transparent listener, a WireGuard interface); a number beside one is refused.
 */
export function resolveWorkers(workers: number | 'auto', modes: readonly string[] = [], cores = os.availableParallelism()): number {
  if (workers === 'auto') return modes.length > 0 ? 1 : Math.max(1, Math.min(cores, AUTO_WORKERS_CAP));
  if (workers > 1 && modes.length > 0) throw new UsageError(`--workers ${workers}: --mode ${modes[0]} runs in one process only; leave out --workers or give --workers 1`);
  return workers;
}
