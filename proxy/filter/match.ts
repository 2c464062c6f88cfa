// A filter expression evaluated over one flow in memory (`scan --filter` over a HAR). The same meaning as the
// store's SQL (./sql.ts): case-insensitive substrings, exact status, method, type, confidence and country.
import type { FilterExpr } from '../../shared/filter';
import type { Flow } from '../../shared/types';
import { flowText, TEXT_PARTS, type FlowText } from './flow-text';

export type MatchableFlow = Pick<Flow, 'url' | 'host' | 'method' | 'client' | 'findings' | 'requestHeaders'> &
  Partial<Pick<Flow, 'device' | 'status' | 'responseHeaders' | 'requestBody' | 'responseBody' | 'destination' | 'session' | 'marked'>>;

export interface MatchContext {
  /** the name of a session id, where flows have sessions */
  sessionName?: (id: number) => string | undefined;
}

const has = (haystack: string | undefined, needle: string) => (haystack ?? '').toLowerCase().includes(needle.toLowerCase());

/** Compiles `expr` once into a predicate over flows. */
export function flowMatcher(expr: FilterExpr, ctx: MatchContext = {}): (flow: MatchableFlow) => boolean {
  return (flow) => {
    let text: FlowText | undefined;
    const eval_ = (e: FilterExpr): boolean => {
      switch (e.kind) {
        case 'not':
          return !eval_(e.expr);
        case 'and':
          return eval_(e.left) && eval_(e.right);
        case 'or':
          return eval_(e.left) || eval_(e.right);
        case 'text':
          text ??= flowText(flow);
          return TEXT_PARTS.text.some((p) => has(text![p], e.text));
      }
      const arg = e.arg.toLowerCase();
      switch (e.op) {
        case 'u':
        case 'h':
        case 'b':
        case 'bq':
        case 'bs':
          text ??= flowText(flow);
          return TEXT_PARTS[e.op].some((p) => has(text![p], arg));
        case 'd':
          return has(flow.host, arg);
        case 'm':
          return flow.method.toLowerCase() === arg;
        case 'c':
          return flow.status === Number(arg);
        case 't':
          return flow.findings.some((f) => f.type === arg);
        case 'enc':
          return flow.findings.some((f) => f.encoding === arg || f.encoding.split('+').includes(arg));
        case 'conf':
          return flow.findings.some((f) => f.confidence === arg);
        case 'cc':
          return flow.destination?.country?.toLowerCase() === arg;
        case 'org':
          return has(flow.destination?.org, arg);
        case 'dev':
          return has(flow.device, arg) || has(flow.client, arg) || flow.findings.some((f) => has(f.device, arg));
        case 'session': {
          if (flow.session === undefined) return false;
          return String(flow.session) === arg || ctx.sessionName?.(flow.session)?.toLowerCase() === arg;
        }
        case 'marked':
          return flow.marked === true;
      }
    };
    return eval_(expr);
  };
}
