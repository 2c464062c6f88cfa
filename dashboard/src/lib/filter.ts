import type { Confidence, FlowSummary, IdentifierType } from '../../../shared/types';

/** The feed filter; the same names as GET /api/flows and /api/export.har query parameters. */
export interface FeedFilter {
  device: string;
  type: IdentifierType | '';
  host: string;
  confidence: Confidence | '';
  /** slug of the known tracker the flow went to */
  tracker: string;
  flagged: boolean;
  /** a filter expression (shared/filter.ts); the server evaluates it (it reaches into bodies), see flowStore */
  q: string;
}

export const EMPTY_FILTER: FeedFilter = { device: '', type: '', host: '', confidence: '', tracker: '', flagged: false, q: '' };

export function isEmptyFilter(f: FeedFilter): boolean {
  return !f.device && !f.type && !f.host && !f.confidence && !f.tracker && !f.flagged && !f.q;
}

export function filterToQuery(f: FeedFilter): string {
  const p = new URLSearchParams();
  if (f.flagged) p.set('flagged', '1');
  if (f.device) p.set('device', f.device);
  if (f.type) p.set('type', f.type);
  if (f.host) p.set('host', f.host);
  if (f.confidence) p.set('confidence', f.confidence);
  if (f.tracker) p.set('tracker', f.tracker);
  if (f.q) p.set('filter', f.q);
  return p.toString();
}

/** A predicate compiled once per filter change, run once per flow: every field but the expression `q`. */
export function compileFilter(f: FeedFilter): (flow: FlowSummary) => boolean {
  if (isEmptyFilter({ ...f, q: '' })) return () => true;
  const host = f.host.trim().toLowerCase();
  const device = f.device;
  const findingLevel = Boolean(f.type || f.confidence);
  return (flow) => {
    if (f.flagged && flow.findings.length === 0) return false;
    if (device && flow.device !== device && flow.client !== device) return false;
    if (host && !flow.host.toLowerCase().includes(host)) return false;
    if (f.tracker && flow.tracker?.slug !== f.tracker) return false;
    if (findingLevel) {
      let hit = false;
      for (const x of flow.findings) {
        if ((!f.type || x.type === f.type) && (!f.confidence || x.confidence === f.confidence)) {
          hit = true;
          break;
        }
      }
      if (!hit) return false;
    }
    return true;
  };
}
