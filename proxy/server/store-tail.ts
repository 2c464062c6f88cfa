// A dashboard node's live feed: the flows every instance commits to the shared store, published to the node's
// dashboards in the store's commit order (seq), and each flow rewritten after (an open tunnel that found more, or
// closed) published again as it now stands, as an instance's own feed does, in the order of the rewrites (pg-migrate.ts,
// migration 7). PostgreSQL's LISTEN/NOTIFY wakes it at each commit and rewrite (triggers of migrations 5 and 7);
// a slow poll stands in while that connection is down. Each read runs in a LiveHub turn, so a reconnecting
// dashboard's replay (up to `published`) and the tail never overlap or gap.
import { log } from '../log';
import type { StoreStatus } from '../../shared/api';
import { PgListener } from '../store/pg-listen';
import type { PgFlowReader } from '../store/pg-reader';
import type { LiveHub } from './live';

const BATCH = 2000;
/** how often the store is read without a notification (a lost LISTEN connection, a notification missed) */
const POLL_MS = 2000;

export class StoreTail {
  private hub: LiveHub | undefined;
  private readonly listener: PgListener;
  private poll: NodeJS.Timeout | undefined;
  private reading = false;
  private again = false;
  private closed = false;

  /** whether the last read of the store succeeded, and since when it fails */
  status: StoreStatus = { reachable: true };

  /** the highest seq dashboards have been sent (at start, the store's newest) */
  published: number;
  /** the highest rewrite dashboards have been sent */
  private rewritten: number;

  constructor(
    private readonly reader: PgFlowReader,
    url: string,
    from: { seq: number; rewrite: number },
  ) {
    this.published = from.seq;
    this.rewritten = from.rewrite;
    this.listener = new PgListener(url, ['leakscope_flows'], () => this.wake());
  }

  /** The store's newest seq and rewrite: where a node that has just started begins. */
  static async newest(reader: PgFlowReader): Promise<{ seq: number; rewrite: number }> {
    const [newest] = await reader.summaries({ limit: 1 });
    return { seq: newest?.id ?? 0, rewrite: await reader.newestRewrite() };
  }

  start(hub: LiveHub): void {
    this.hub = hub;
    this.poll = setInterval(() => this.wake(), POLL_MS);
    this.poll.unref();
    this.listener.start();
  }

  /** Reads what is new, now or (if a read is under way) right after it. */
  wake(): void {
    if (!this.hub || this.closed) return;
    if (this.reading) return void (this.again = true);
    this.reading = true;
    void this.hub.exclusive(() => this.read()).finally(() => {
      this.reading = false;
      if (this.again) {
        this.again = false;
        this.wake();
      }
    });
  }

  private async read(): Promise<void> {
    try {
      for (;;) {
        const batch = await this.reader.summaries({ after: this.published, limit: BATCH });
        for (const flow of batch) this.hub!.publishFlow(flow);
        if (batch.length) this.published = batch[batch.length - 1].id;
        if (batch.length < BATCH) break;
      }
      for (;;) {
        const batch = await this.reader.rewrites(this.rewritten, BATCH);
        // One past `published` committed since the read above: the next read sends it as it stands.
        for (const { flow } of batch) if (flow.id <= this.published) this.hub!.publishFlow(flow);
        if (batch.length) this.rewritten = batch[batch.length - 1].rewrite;
        if (batch.length < BATCH) break;
      }
      if (!this.status.reachable) this.setStatus({ reachable: true });
    } catch (err) {
      if (this.status.reachable) {
        log.warn({ err: (err as Error).message }, 'the shared store cannot be read; trying again');
        this.setStatus({ reachable: false, since: Date.now(), error: (err as Error).message });
      }
    }
  }

  private setStatus(status: StoreStatus): void {
    this.status = status;
    this.hub?.publishStoreStatus(status);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.poll);
    await this.listener.close();
  }
}
