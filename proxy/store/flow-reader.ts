// The read side of a store, as the dashboard's API and live feed use it: the instance's own SQLite store, or a
// lab's shared PostgreSQL one (a dashboard node). Asynchronous because PostgreSQL is.
import type { DeviceInfo, TimelineResponse } from '../../shared/api';
import type { SessionInfo } from '../../shared/audit';
import type { Flow, FlowSummary, SummaryRow } from '../../shared/types';
import type { FlowStore } from './flow-store';
import type { FlowQuery, ScopeQuery } from './flow-query';
import type { SessionRef } from './session-log';

export interface FlowReader {
  /** Without `after`: newest first. With `after`: oldest first (a client catching up). */
  summaries(q: FlowQuery): Promise<FlowSummary[]>;
  get(id: number): Promise<Flow | undefined>;
  /** Full flows matching `q`, oldest first, a page at a time (exports can be large). */
  flows(q: FlowQuery): AsyncIterable<Flow>;
  /** identifier type × destination host, per device */
  summary(scope: ScopeQuery): Promise<SummaryRow[]>;
  devices(scope: ScopeQuery): Promise<DeviceInfo[]>;
  count(): Promise<number>;
  sessions(): Promise<SessionInfo[]>;
  /** A session by name, else by id; SessionError (`missing`) naming the sessions there are. */
  session(ref: string): Promise<SessionRef>;
  /** the instances whose flows the store holds */
  instances(): Promise<string[]>;
  /** flows counted per time bucket (GET /api/timeline); a store that cannot count them has none */
  timeline?(q: FlowQuery): Promise<TimelineResponse>;
}

/**
 * An instance's own store. Everything in it was captured by `instance` (flows from before instances were named
 * too), so asking for that instance narrows nothing, and asking for another finds nothing.
 */
export function sqliteReader(store: FlowStore, instance: string): FlowReader {
  const other = (q: { instance?: string }) => q.instance !== undefined && q.instance !== instance;
  const own = <Q extends { instance?: string }>(q: Q): Q => ({ ...q, instance: undefined });
  return {
    summaries: async (q) => (other(q) ? [] : store.summaries(own(q))),
    get: async (id) => store.get(id),
    async *flows(q) {
      if (!other(q)) yield* store.flows(own(q));
    },
    summary: async (scope) => (other(scope) ? [] : store.summary(scope)),
    devices: async (scope) => (other(scope) ? [] : store.devices(scope)),
    count: async () => store.count(),
    sessions: async () => store.sessions.list(),
    session: async (ref) => store.sessions.require(ref),
    instances: async () => [instance],
    timeline: async (q) => (other(q) ? store.timeline({ ids: [] }) : store.timeline(own(q))),
  };
}
