// An instance's flows on their way to a lab's shared store. Each flow is in the local store, with its outbox row,
// before it comes here. While PostgreSQL answers, each is written through (the phone's response ends once it is
// in both, as before). When a write fails, the instance stops writing through: its flows wait in the outbox on
// its own disk, and the outbox is drained, oldest first, as soon as PostgreSQL answers again; then writing
// through resumes. A start finds what an earlier run left in the outbox and drains it first.
import type { StoreStatus } from '../../shared/api';
import type { Flow } from '../../shared/types';
import { log } from '../log';
import type { FlowStore } from './flow-store';
import type { PgFlowStore } from './pg-store';
import type { SharedOutbox } from './shared-outbox';

const RETRY_MS = 1000;
const DRAIN_BATCH = 500;

export class SharedMirror {
  /** writing each flow through; false while the outbox is drained or PostgreSQL is away */
  private direct = true;
  private status: StoreStatus = { reachable: true };
  private draining: Promise<void> | undefined;
  private retry: NodeJS.Timeout | undefined;
  /** ends the wait between two tries early, at close */
  private wake: (() => void) | undefined;
  private closed = false;

  constructor(
    private readonly local: FlowStore,
    private readonly outbox: SharedOutbox,
    private readonly shared: PgFlowStore,
    private readonly onStatus: (status: StoreStatus) => void,
  ) {}

  /** Drains what an earlier run left waiting, if anything. */
  start(): void {
    if (this.outbox.waiting(1).length > 0) this.queue();
  }

  current(): StoreStatus {
    return { ...this.status, queued: this.outbox.size() };
  }

  /** A flow just stored locally (its outbox row with it); resolves once the shared store has it or it waits. */
  async send(flow: Flow): Promise<void> {
    if (!this.direct) return;
    try {
      await this.shared.commit(flow, this.sessionName(flow));
      this.outbox.done([flow.id]);
    } catch (err) {
      this.failed(err as Error);
    }
  }

  /** A stored flow rewritten (an open tunnel that found more, or closed). */
  async resend(flow: Flow): Promise<void> {
    if (!this.direct) return this.outbox.add(flow.id);
    try {
      await this.shared.update(flow);
    } catch (err) {
      this.outbox.add(flow.id);
      this.failed(err as Error);
    }
  }

  private sessionName(flow: Flow): string {
    const sessions = this.local.sessions;
    return sessions.nameOf(flow.session ?? sessions.currentId()) ?? String(flow.session);
  }

  private failed(err: Error): void {
    if (this.status.reachable) {
      log.warn({ err: err.message }, 'the shared store is unreachable: flows are kept on this disk and written there when it returns');
      this.status = { reachable: false, since: Date.now(), error: err.message };
    }
    this.queue();
  }

  /** Stops writing through and drains the outbox until it is empty. */
  private queue(): void {
    this.direct = false;
    this.onStatus(this.current());
    this.draining ??= this.drain().finally(() => (this.draining = undefined));
  }

  private async drain(): Promise<void> {
    while (!this.closed) {
      const ids = this.outbox.waiting(DRAIN_BATCH);
      if (ids.length === 0) {
        // In the same turn as the empty read: no flow can be stored in between and miss both ways.
        this.direct = true;
        if (!this.status.reachable) log.info('the shared store is reachable again; every queued flow is written');
        this.status = { reachable: true };
        this.onStatus(this.current());
        return;
      }
      try {
        await Promise.all(ids.map((id) => this.write(id)));
        this.outbox.done(ids);
      } catch (err) {
        if (this.status.reachable) this.status = { reachable: false, since: Date.now(), error: (err as Error).message };
        this.onStatus(this.current());
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          this.retry = setTimeout(resolve, RETRY_MS);
        });
      }
    }
  }

  private write(id: number): Promise<void> {
    const flow = this.local.get(id);
    if (!flow) return Promise.resolve();
    return this.shared.knows(id) ? this.shared.update(flow) : this.shared.commit(flow, this.sessionName(flow));
  }

  /** At a clean stop: waits for the writes under way; the rest stays in the outbox for the next start. */
  async close(): Promise<void> {
    this.closed = true;
    // Clearing the timer alone would leave the drain waiting on it for ever, and the stop with it.
    clearTimeout(this.retry);
    this.wake?.();
    await this.draining;
  }
}
