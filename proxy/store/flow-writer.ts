// Where the pipeline's flows go: the instance's own SQLite store (its dashboard reads it) and, in a lab, the
// shared PostgreSQL store too, through its outbox (./shared-mirror.ts). Every flow is stamped with the instance
// that captured it.
import type { Flow } from '../../shared/types';
import type { CapturedRequest } from '../capture/forward';
import type { FlowStore } from './flow-store';
import type { SharedMirror } from './shared-mirror';

export interface FlowWriter {
  /** Stores a completed flow; resolves with it, with its local id, once it is in the local store and in (or
   * queued on disk for) the shared one. `request`: the exchange's, for an HTTP flow (a proxy worker names it). */
  commit(draft: Omit<Flow, 'id'>, request?: CapturedRequest): Promise<Flow>;
  /** Rewrites a flow whose `commit` has resolved (an open tunnel that found more, or closed). */
  update(flow: Flow): Flow | Promise<Flow>;
}

export function flowWriter(local: FlowStore, instance: string, shared?: SharedMirror): FlowWriter {
  return {
    async commit(draft) {
      const flow = await local.commit({ ...draft, instance });
      await shared?.send(flow);
      return flow;
    },
    async update(flow) {
      local.update(flow);
      await shared?.resend(flow);
      return flow;
    },
  };
}
