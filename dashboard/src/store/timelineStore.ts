// The timeline strip's data: buckets counted by the server (GET /api/timeline) for the feed's filter and session,
// then grown in place by the live flows the flow store hands over in its batches (so at most as often as the feed
// redraws, and without asking the server again).
import type { TimelineBucket, TimelineResponse } from '../../../shared/api';
import type { FlowSummary } from '../../../shared/types';
import { api } from './api';
import { Observable } from './observable';

/** Live flows kept while the first answer is on its way; past this many, the answer is asked for again. */
const MAX_EARLY = 10_000;

export class TimelineStore extends Observable {
  bucketMs = 60_000;
  /** oldest first */
  buckets: TimelineBucket[] = [];
  loaded = false;
  error = '';
  /** flows up to this id are in the server's counts */
  private lastId = 0;
  /** flows handed in before the answer came: counted once it is there, those above its lastId */
  private early: FlowSummary[] = [];
  private query = '';
  private asked = 0;

  /** Counts for `query` (GET /api/flows parameters, without a time range) from the server. */
  load(query: string): void {
    this.query = query;
    const ask = ++this.asked;
    this.loaded = false;
    this.early = [];
    api<TimelineResponse>(`/api/timeline${query ? `?${query}` : ''}`)
      .then((t) => {
        if (ask !== this.asked) return;
        this.bucketMs = t.bucketMs;
        this.buckets = t.buckets;
        this.lastId = t.lastId;
        this.loaded = true;
        this.error = '';
        const early = this.early;
        this.early = [];
        this.count(early);
        this.emit();
      })
      .catch((err: Error) => {
        if (ask !== this.asked) return;
        this.error = err.message;
        this.emit();
      });
  }

  /** Flows newly in the feed's filter and session (one live batch). */
  add(flows: FlowSummary[]): void {
    if (flows.length === 0) return;
    if (!this.loaded) {
      this.early.push(...flows);
      if (this.early.length > MAX_EARLY) this.load(this.query);
      return;
    }
    if (this.count(flows)) this.emit();
  }

  /** A flow counted already that has just found its first identifier (a tunnel still open). */
  flagged(flow: FlowSummary): void {
    if (!this.loaded || flow.id <= this.lastId || flow.findings.length === 0) return;
    const bucket = this.bucketOf(flow.start);
    bucket.flagged++;
    const type = flow.findings[0].type;
    bucket.types[type] = (bucket.types[type] ?? 0) + 1;
    this.buckets = [...this.buckets];
    this.emit();
  }

  private count(flows: FlowSummary[]): boolean {
    let changed = false;
    for (const f of flows) {
      if (f.id <= this.lastId) continue;
      const bucket = this.bucketOf(f.start);
      bucket.flows++;
      if (f.findings.length > 0) {
        bucket.flagged++;
        const type = f.findings[0].type;
        bucket.types[type] = (bucket.types[type] ?? 0) + 1;
      }
      changed = true;
    }
    // A new array: the strip redraws when it changes.
    if (changed) this.buckets = [...this.buckets];
    return changed;
  }

  /** The bucket `time` falls in, made when there is none yet (at the end, where live flows land, or in place). */
  private bucketOf(time: number): TimelineBucket {
    const start = Math.floor(time / this.bucketMs) * this.bucketMs;
    const list = this.buckets;
    let lo = 0;
    let hi = list.length;
    if (hi > 0 && list[hi - 1].start <= start) lo = hi - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid].start < start) lo = mid + 1;
      else hi = mid;
    }
    if (list[lo]?.start === start) return list[lo];
    const bucket: TimelineBucket = { start, flows: 0, flagged: 0, types: {} };
    list.splice(lo, 0, bucket);
    return bucket;
  }
}

export const timeline = new TimelineStore();
