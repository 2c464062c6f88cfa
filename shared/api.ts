// The dashboard server's HTTP API and socket.io events, as both sides see them.
// Paths under /api; every response is JSON unless noted.
import type { Rule } from './rules';
import type { Issue } from './issues';
import type { FlowSummary, IdentifierType, SummaryRow, TlsErrorEvent, UdpDroppedEvent } from './types';

/**
 * GET /api/flows — query: flagged=1, limit=N (default 200, max 5000), after=ID, before=ID,
 *   device=NAME|IP, type=IDENTIFIER_TYPE, host=SUBSTRING, confidence=known|pattern, q=TEXT (url substring),
 *   filter=EXPR (shared/filter.ts; a bad one: 400 with { error, position }), from=TIME and to=TIME (flows that
 *   started in [from, to); ms since 1970 or ISO 8601; the same two narrow /api/summary, /api/timeline and
 *   /api/export.har).
 * Without `after`: the newest `limit` flows, newest first. With `after`: the oldest `limit` flows whose id > after,
 * oldest first (what a reconnecting client asks for).
 */
export type FlowsResponse = FlowSummary[];

/** One stretch of time on the timeline: the flows that started in it, the flagged ones by type. */
export interface TimelineBucket {
  /** ms since 1970; the bucket holds flows that started in [start, start + bucketMs) */
  start: number;
  flows: number;
  flagged: number;
  /** flagged flows by their first finding's type (the colour of the feed's row), so they add up to `flagged` */
  types: Partial<Record<IdentifierType, number>>;
}

/**
 * GET /api/timeline — the flows GET /api/flows would select (same query parameters; limit ignored), counted per
 * bucket, oldest first. `bucketMs` is a minute unless the flows span more than MAX_TIMELINE_BUCKETS minutes, then
 * the next step of 2, 5, 10, 15, 30 minutes, 1, 2, 3, 6, 12 hours or whole days that fits. `lastId`: the newest
 * flow id in the store when it was counted (a client adds live flows above it).
 */
export interface TimelineResponse {
  bucketMs: number;
  buckets: TimelineBucket[];
  lastId: number;
}

/** PUT /api/flows/:id/mark — body; answers with the whole flow. An empty comment removes it. */
export interface MarkRequest {
  marked: boolean;
  comment?: string;
}

/** GET /api/summary — identifier type × destination host, per device. */
export interface SummaryResponse {
  rows: SummaryRow[];
}

/** GET /api/devices; PUT /api/devices/:client with { name } renames. */
export interface DeviceInfo {
  /** a dashboard node over a lab's store: the instance the phone is behind (its client address is that instance's) */
  instance?: string;
  client: string;
  name?: string;
  flows: number;
  flagged: number;
  findings: number;
  firstSeen: number;
  lastSeen: number;
}

/** GET /api/config — what the header and the setup view need. */
export interface ServerConfig {
  proxy: { port: number; lanAddresses: string[] };
  setupUrl: string;
  version: string;
  /** with `start --workers N` (N > 1): the pid of each proxy process serving behind the port (a replacement once it listens) */
  workers?: number[];
}

/**
 * GET /api/rules — the rules in force and, per rule (same order), the flows it has touched since start.
 * PUT /api/rules with { rules } replaces them (validated, saved to the rules file) and answers like GET.
 */
/**
 * The 400 answer to PUT /api/identifiers or /api/rules with a document that does not validate: `error` the
 * sentences joined by "; ", `issues` each fault with its path (`["devices", 0, "location", 0, "lat"]`, and as
 * text `devices[0].location[0].lat`).
 */
export interface ValidationError {
  error: string;
  issues: Issue[];
}

export interface RulesResponse {
  rules: Rule[];
  touched: number[];
}

/** Event-loop delay over the last complete window (10 s), in ms; zeros until the first window ends. */
export interface LoopDelay {
  meanMs: number;
  p99Ms: number;
  maxMs: number;
  windowMs: number;
}

/** GET /api/stats — for soak runs and monitoring: flows stored so far and how late the event loop runs. */
export interface StatsResponse {
  flows: number;
  eventLoopDelay: LoopDelay;
}

/**
 * A lab's shared store (PostgreSQL) as this process sees it: GET /api/store-status ({ shared }, absent without
 * one) and socket.io event `store-status` on every change.
 */
export interface StoreStatus {
  /** false while PostgreSQL cannot be reached */
  reachable: boolean;
  /** since when (epoch ms) it is unreachable */
  since?: number;
  /** what failed */
  error?: string;
  /** an instance: its flows waiting on its own disk for the shared store */
  queued?: number;
}

export interface StoreStatusResponse {
  shared?: StoreStatus;
}

/** GET /api/tls-errors — newest first. */
export type TlsErrorsResponse = TlsErrorEvent[];

/** GET /api/udp-dropped — newest first: UDP from the WireGuard tunnel that was not passed on. */
export type UdpDroppedResponse = UdpDroppedEvent[];

/** socket.io: the client passes `auth: { after: lastSeenId }`; the server first replays every flow with a larger
 * id as `flow` events, then streams live ones. */
export interface SocketAuth {
  after?: number;
  token?: string;
}

export const SOCKET_EVENTS = { flow: 'flow', tlsError: 'tls-error', udpDropped: 'udp-dropped', storeStatus: 'store-status' } as const;
