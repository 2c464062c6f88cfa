// The one store: owns the socket, resume-after-reconnect, the flow list, the feed filter and TLS errors.
// Views only read it (useStore) and call its actions.
import { io, type Socket } from 'socket.io-client';
import type { FlowSummary, TlsErrorEvent } from '../../../shared/types';
import { SOCKET_EVENTS, type FlowsResponse, type SocketAuth, type TlsErrorsResponse } from '../../../shared/api';
import { api } from './api';
import { compileFilter, EMPTY_FILTER, filterToQuery, type FeedFilter } from '../lib/filter';
import { rangeQuery, type TimeRange } from '../lib/range';
import { Observable } from './observable';
import { sessionQuery } from './sessionStore';
import { timeline } from './timelineStore';

export type ConnectionState = 'connecting' | 'live' | 'offline';

/** The API's largest page. */
const PAGE = 5000;
/** History loaded at start; live flows are added on top of it without limit. */
const HISTORY_LIMIT = 100_000;
/**
 * Least time between two flushes of live flows. Each flush re-renders the feed and shifts every row on screen,
 * and the virtualizer recomputes its offsets for every flow held: once per frame at 200 flows/s with 100,000
 * held, that kept the main thread over a third busy (two thirds on a loaded machine, dropping frames). Ten a
 * second keeps a lone flow immediate and a burst well within the second the feed promises.
 */
const FLUSH_GAP_MS = 100;

/** The first position in an id-ascending array whose id is not below `id`. */
function lowerBound(list: FlowSummary[], id: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid].id < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Insert into an id-ascending array: append when newest (the normal case), binary insert otherwise. */
function insertById(list: FlowSummary[], flow: FlowSummary): void {
  const n = list.length;
  if (n === 0 || list[n - 1].id < flow.id) list.push(flow);
  else list.splice(lowerBound(list, flow.id), 0, flow);
}

/** Index of the flow with `id` in an id-ascending array, or -1. */
function indexById(list: FlowSummary[], id: number): number {
  const i = lowerBound(list, id);
  return i < list.length && list[i].id === id ? i : -1;
}

export class FlowStore extends Observable {
  /** Every flow in view, id ascending (the feed shows it reversed: newest first). Live flows go in in place;
   *  a history page replaces it. */
  all: FlowSummary[] = [];
  /** The flows passing the filter, id ascending. Grown in place per live batch; replaced by a history page or a
   *  filter change. */
  visible: FlowSummary[] = [];
  /** the earliest and latest start among the visible flows (the feed adds dates when they fall on two days) */
  visibleSpan: { first: number; last: number } | undefined;
  private ids = new Set<number>();
  /** Highest id ever received: what we ask the server to resume after. Not reset by "clear view". */
  lastSeenId = 0;
  filter: FeedFilter = EMPTY_FILTER;
  /** the capture session picked in the header (sessionStore); undefined: all */
  session: number | undefined;
  /** the time range brushed on the timeline; undefined: all time */
  range: TimeRange | undefined;
  /** the highest session id seen on a flow: a new one means the session list is stale */
  newestSession: number | undefined;
  /** the feed filter and the session (what the timeline counts) */
  private inScope = compileFilter(EMPTY_FILTER);
  /** inScope, and within the time range */
  private matches = compileFilter(EMPTY_FILTER);
  /** With a filter expression: the ids the server says match it (undefined until it has answered). */
  private expressionIds: Set<number> | undefined;
  /** what the server said of the expression when it refused it */
  filterError = '';
  paused = false;
  /** Flows received while paused; shown on resume. */
  held: FlowSummary[] = [];
  /** client IP → device name, from every flow seen. */
  devices = new Map<string, string | undefined>();
  /** tracker slug → name, from every flow seen */
  trackers = new Map<string, string>();
  flaggedSeen = 0;
  tlsErrors: TlsErrorEvent[] = [];
  connection: ConnectionState = 'connecting';
  loadError = '';
  /** Bumped on every change the views care about; the useSyncExternalStore snapshot. */
  /** Bumped when flows with findings arrive (summary / devices refresh on it). */
  flaggedVersion = 0;

  private queue: FlowSummary[] = [];
  private lastFlush = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private socket: Socket | undefined;
  private started = false;
  /** Oldest id loaded from history; 0 once there is nothing more to page in (or the view was cleared). */
  private historyBefore = 0;

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    // Newest first from the API; the socket then resumes after the newest one we hold, and older pages fill in
    // below what is already shown.
    let history: FlowsResponse = [];
    timeline.load(this.scopeQuery());
    try {
      history = await api<FlowsResponse>(`/api/flows?limit=${PAGE}`);
      this.ingest(history);
      this.flush();
    } catch (err) {
      this.loadError = `Could not load flows: ${(err as Error).message}`;
      this.emit();
    }
    api<TlsErrorsResponse>('/api/tls-errors')
      .then((list) => {
        for (const e of list) this.addTlsError(e, false);
        this.emit();
      })
      .catch(() => undefined);
    this.connect();
    this.historyBefore = history.length === PAGE ? history[PAGE - 1].id : 0;
    await this.loadHistory(history.length);
  }

  private async loadHistory(loaded: number): Promise<void> {
    while (this.historyBefore && this.started && loaded < HISTORY_LIMIT) {
      let page: FlowsResponse;
      try {
        page = await api<FlowsResponse>(`/api/flows?limit=${Math.min(PAGE, HISTORY_LIMIT - loaded)}&before=${this.historyBefore}`);
      } catch {
        return; // what is shown stays; a reload tries again
      }
      if (!this.historyBefore) return; // cleared while the page was on its way
      loaded += page.length;
      this.historyBefore = page.length === PAGE ? page[page.length - 1].id : 0;
      this.addOlder(page);
    }
  }

  /**
   * A history page (newest first), every id below all we hold: one concat at the bottom of the feed instead of a
   * binary insert per flow. Shown even while paused: it lands below the rows being read and moves none of them.
   */
  private addOlder(page: FlowsResponse): void {
    const older: FlowSummary[] = [];
    let flagged = 0;
    for (let i = page.length - 1; i >= 0; i--) {
      const f = page[i];
      if (this.ids.has(f.id)) continue;
      this.ids.add(f.id);
      if (!this.devices.has(f.client)) this.devices.set(f.client, f.device);
      this.noteSession(f);
      if (f.tracker) this.trackers.set(f.tracker.slug, f.tracker.name);
      if (f.findings.length > 0) flagged++;
      older.push(f);
    }
    if (older.length === 0) return;
    this.all = older.concat(this.all);
    const shown = older.filter(this.matches);
    for (const f of shown) this.widenSpan(f);
    this.visible = shown.concat(this.visible);
    if (flagged) {
      this.flaggedSeen += flagged;
      this.flaggedVersion++;
    }
    this.emit();
  }

  private connect(): void {
    const socket = io({
      // A function, so every (re)connection sends the id we hold *now*: the server replays the rest.
      auth: (cb: (auth: SocketAuth) => void) => cb({ after: this.lastSeenId }),
      reconnectionDelay: 500,
      reconnectionDelayMax: 2000,
    });
    this.socket = socket;
    socket.on('connect', () => {
      this.connection = 'live';
      this.loadError = '';
      this.emit();
    });
    socket.on('disconnect', () => {
      this.connection = 'offline';
      this.emit();
    });
    socket.on('connect_error', () => {
      this.connection = 'offline';
      this.emit();
    });
    socket.on(SOCKET_EVENTS.flow, (flow: FlowSummary) => this.receive(flow));
    socket.on(SOCKET_EVENTS.tlsError, (e: TlsErrorEvent) => {
      this.addTlsError(e, true);
      this.emit();
    });
  }

  stop(): void {
    this.socket?.close();
    this.socket = undefined;
    this.started = false;
  }

  /** Socket events land in a queue, flushed as one batch at most every FLUSH_GAP_MS. */
  private receive(flow: FlowSummary): void {
    if (!flow || typeof flow.id !== 'number') return;
    this.queue.push(flow);
    if (flow.id > this.lastSeenId) this.lastSeenId = flow.id;
    this.schedule();
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.flush();
      },
      Math.max(0, this.lastFlush + FLUSH_GAP_MS - performance.now()),
    );
  }

  private ingest(flows: FlowSummary[]): void {
    for (const f of flows) {
      this.queue.push(f);
      if (f.id > this.lastSeenId) this.lastSeenId = f.id;
    }
  }

  private flush(): void {
    if (this.queue.length === 0) return;
    this.lastFlush = performance.now();
    const batch = this.queue;
    this.queue = [];
    let flagged = false;
    const scoped: FlowSummary[] = [];
    for (const f of batch) {
      if (this.ids.has(f.id)) {
        // A flow still open (a tunnel) is published again as it grows; a replay overlap replaces a row with itself.
        if (this.replace(f)) flagged = true;
        continue;
      }
      this.ids.add(f.id);
      if (!this.devices.has(f.client) || (f.device && this.devices.get(f.client) !== f.device))
        this.devices.set(f.client, f.device);
      this.noteSession(f);
      if (f.tracker) this.trackers.set(f.tracker.slug, f.tracker.name);
      if (f.findings.length > 0) {
        this.flaggedSeen++;
        flagged = true;
      }
      if (this.inScope(f)) scoped.push(f);
      if (this.paused) this.held.push(f);
      else this.show(f);
    }
    if (flagged) this.flaggedVersion++;
    timeline.add(scoped);
    this.emit();
    if (this.filter.q) void this.askExpression(batch.map((f) => f.id));
  }

  /**
   * Asks the server which flows match the expression: every one up to the history limit, or only `ids` (a live
   * batch, added to what matched). An answer for an expression no longer in force is dropped.
   */
  private async askExpression(ids?: number[]): Promise<void> {
    const expr = this.filter.q;
    const found = ids ? new Set(this.expressionIds) : new Set<number>();
    const base = `/api/flows?filter=${encodeURIComponent(expr)}`;
    try {
      if (ids) {
        for (let i = 0; i < ids.length; i += 500) {
          const page = await api<FlowsResponse>(`${base}&limit=${PAGE}&ids=${ids.slice(i, i + 500).join(',')}`);
          for (const f of page) found.add(f.id);
        }
      } else {
        for (let before: number | undefined; found.size < HISTORY_LIMIT; ) {
          const page = await api<FlowsResponse>(`${base}&limit=${PAGE}${before ? `&before=${before}` : ''}`);
          for (const f of page) found.add(f.id);
          if (page.length < PAGE) break;
          before = page[page.length - 1].id;
        }
      }
    } catch (err) {
      if (expr !== this.filter.q) return;
      this.filterError = (err as Error).message;
      this.expressionIds = new Set();
      this.compile();
      this.emit();
      return;
    }
    if (expr !== this.filter.q) return;
    // Live flows matching the expression are in scope only now: the timeline counts them here.
    if (ids) timeline.add(ids.filter((id) => found.has(id) && !this.expressionIds?.has(id)).flatMap((id) => this.byId(id) ?? []));
    this.filterError = '';
    this.expressionIds = found;
    this.compile();
    this.emit();
  }

  /** A flow held (shown or, while paused, waiting), by id. */
  private byId(id: number): FlowSummary | undefined {
    const i = indexById(this.all, id);
    return i >= 0 ? this.all[i] : this.held[indexById(this.held, id)];
  }

  /** After a mark is saved: the row shows it at once (marks are not streamed). */
  patchMark(id: number, marked: boolean, comment: string | undefined): void {
    const i = indexById(this.all, id);
    if (i < 0) return;
    this.all[i] = { ...this.all[i], marked: marked || undefined, comment };
    const v = indexById(this.visible, id);
    if (v >= 0) this.visible[v] = this.all[i];
    this.emit();
  }

  /** Puts a newer version of a flow already held in its place; true when it has just gained its first findings. */
  private replace(f: FlowSummary): boolean {
    const list = indexById(this.all, f.id) >= 0 ? this.all : this.held;
    const i = indexById(list, f.id);
    if (i < 0) return false;
    const gained = list[i].findings.length === 0 && f.findings.length > 0;
    list[i] = f;
    if (list === this.all) {
      const v = indexById(this.visible, f.id);
      if (v >= 0) this.visible.splice(v, 1);
      if (this.matches(f)) this.showMatching(f);
    }
    if (gained) {
      this.flaggedSeen++;
      if (this.inScope(f)) timeline.flagged(f);
    }
    return gained;
  }

  private noteSession(f: FlowSummary): void {
    if (f.session !== undefined && (this.newestSession === undefined || f.session > this.newestSession)) this.newestSession = f.session;
  }

  /** The feed filter and the picked session, as one predicate; with the time range, another. */
  private compile(): void {
    const fields = compileFilter(this.filter);
    const ids = this.filter.q ? (this.expressionIds ?? new Set<number>()) : undefined;
    const base = ids ? (f: FlowSummary) => ids.has(f.id) && fields(f) : fields;
    const session = this.session;
    const inScope = session === undefined ? base : (f: FlowSummary) => f.session === session && base(f);
    this.inScope = inScope;
    const range = this.range;
    this.matches = range ? (f) => f.start >= range.from && f.start < range.to && inScope(f) : inScope;
    this.visible = this.all.filter(this.matches);
    this.visibleSpan = undefined;
    for (const f of this.visible) this.widenSpan(f);
  }

  private widenSpan(f: FlowSummary): void {
    const span = this.visibleSpan;
    if (!span) this.visibleSpan = { first: f.start, last: f.start };
    else if (f.start < span.first) this.visibleSpan = { first: f.start, last: span.last };
    else if (f.start > span.last) this.visibleSpan = { first: span.first, last: f.start };
  }

  private showMatching(f: FlowSummary): void {
    insertById(this.visible, f);
    this.widenSpan(f);
  }

  /** GET /api/flows parameters of the filter and session (no time range): what the timeline counts. */
  private scopeQuery(): string {
    return [filterToQuery(this.filter), sessionQuery(this.session, '')].filter(Boolean).join('&');
  }

  /** GET /api/flows parameters of what the feed shows: filter, session and time range (the export's). */
  viewQuery(): string {
    return [this.scopeQuery(), rangeQuery(this.range)].filter(Boolean).join('&');
  }

  /** Narrows the feed (and the matrix and export) to flows that started in the range; undefined: all time. */
  setRange(range: TimeRange | undefined): void {
    this.range = range;
    this.compile();
    this.emit();
  }

  setSession(session: number | undefined): void {
    this.session = session;
    this.compile();
    timeline.load(this.scopeQuery());
    this.emit();
  }

  private show(f: FlowSummary): void {
    insertById(this.all, f);
    if (this.matches(f)) this.showMatching(f);
  }

  setFilter(patch: Partial<FeedFilter>): void {
    this.applyFilter({ ...this.filter, ...patch });
  }

  resetFilter(next: FeedFilter = EMPTY_FILTER): void {
    this.applyFilter(next);
  }

  private applyFilter(next: FeedFilter): void {
    const expressionChanged = next.q !== this.filter.q;
    this.filter = next;
    if (expressionChanged) {
      this.expressionIds = undefined;
      this.filterError = '';
      if (next.q) void this.askExpression();
    }
    this.compile();
    timeline.load(this.scopeQuery());
    this.emit();
  }

  setPaused(paused: boolean): void {
    this.paused = paused;
    if (!paused) {
      const held = this.held;
      this.held = [];
      for (const f of held) this.show(f);
    }
    this.emit();
  }

  /** Clears the view only: captured flows stay on the server, and nothing cleared comes back on reconnect. */
  clear(): void {
    this.historyBefore = 0;
    this.all = [];
    this.visible = [];
    this.visibleSpan = undefined;
    this.held = [];
    this.emit();
  }

  /** One row per client, host and kind: a newer count of the same failure replaces the row it updates. */
  private addTlsError(e: TlsErrorEvent, live: boolean): void {
    const same = (x: TlsErrorEvent) => x.client === e.client && x.host === e.host && x.kind === e.kind;
    const held = this.tlsErrors.find(same);
    if (held && held.lastSeen >= e.lastSeen) return;
    const others = this.tlsErrors.filter((x) => !same(x));
    this.tlsErrors = (live ? [e, ...others] : [...others, e].sort((a, b) => b.lastSeen - a.lastSeen)).slice(0, 1000);
  }

  /** Device label for a client IP. */
  deviceName(client: string, device?: string): string {
    return device || this.devices.get(client) || client;
  }
}

export const store = new FlowStore();
