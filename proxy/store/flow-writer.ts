// Where the pipeline's flows go: the instance's own SQLite store (its dashboard reads it) and, in a lab, the
// shared PostgreSQL store too. Every flow is stamped with the instance that captured it.
import type { Flow } from '../../shared/types';
import { log } from '../log';
import type { FlowStore } from './flow-store';
import type { PgFlowStore } from './pg-store';

export interface FlowWriter {
  /** Stores a completed flow; resolves with it, with its local id, once every store has it. */
  commit(draft: Omit<Flow, 'id'>): Promise<Flow>;
  /** Rewrites a flow whose `commit` has resolved (an open tunnel that found more, or closed). */
  update(flow: Flow): Flow | Promise<Flow>;
}

export function flowWriter(local: FlowStore, instance: string, shared?: PgFlowStore): FlowWriter {
  // The phone's response never waits on a shared store that has gone: the flow is in the local one already.
  const lost = (err: Error) => log.warn({ err: err.message }, 'a flow could not be written to the shared store (it is in the local one)');
  const sessionName = (flow: Flow) => local.sessions.nameOf(flow.session ?? local.sessions.currentId()) ?? String(flow.session);
  return {
    async commit(draft) {
      const flow = await local.commit({ ...draft, instance });
      if (shared) await shared.commit(flow, sessionName(flow)).catch(lost);
      return flow;
    },
    async update(flow) {
      local.update(flow);
      if (shared) await shared.update(flow).catch(lost);
      return flow;
    },
  };
}
