// Kept apart from hub.ts so the CLI can refuse bad usage before it loads the proxy's modules.
import { UsageError } from '../cli/errors';

/** Only one process can own a transparent listener or a WireGuard interface. */
export function checkWorkers(workers: number, modes: readonly string[] = []): void {
  if (workers > 1 && modes.length > 0) throw new UsageError(`--workers ${workers}: --mode ${modes[0]} runs in one process only; leave out --workers or give --workers 1`);
}
