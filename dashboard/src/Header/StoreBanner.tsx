import type { StoreStatus } from '../../../shared/api';
import { formatDateTime } from '../lib/format';

/** Says so while a lab's shared store (PostgreSQL) cannot be reached, and what waits for it. */
export function StoreBanner({ status }: { status: StoreStatus | undefined }) {
  if (!status || status.reachable) return null;
  const queued = status.queued === undefined ? '' : ` ${status.queued.toLocaleString()} ${status.queued === 1 ? 'flow waits' : 'flows wait'} on this instance's disk and ${status.queued === 1 ? 'goes' : 'go'} there when it returns; nothing is lost.`;
  return (
    <div className="store-banner" role="alert" data-testid="store-banner">
      The shared store (PostgreSQL) is unreachable{status.since ? ` since ${formatDateTime(status.since)}` : ''}.{queued}
      {status.queued === undefined ? ' What the instances capture meanwhile reaches this dashboard when it returns.' : ''}
    </div>
  );
}
