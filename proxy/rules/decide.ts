// Which rule governs each finding of a request (first match wins), and what that means for the request:
// one blocked finding blocks it; otherwise the findings under `redact` rules are replaced and the rest pass.
import type { Rule } from '../../shared/rules';
import type { Finding } from '../../shared/types';

export interface RuleContext {
  host: string;
  client: string;
  /** the device name, when known */
  device?: string;
}

export interface Decision {
  block: boolean;
  /** findings to replace with fakes (empty when blocking) */
  redact: Finding[];
  /** findings that leave as the phone sent them */
  passed: Finding[];
  /** the distinct rules that decided something about this request */
  touched: Rule[];
}

/** `*.example.cn` covers example.cn and every host under it; anything else is an exact, case-blind name. */
export function hostMatches(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase().replace(/\.$/, '');
  const h = host.toLowerCase().replace(/\.$/, '');
  if (!p.startsWith('*.')) return p === h;
  const domain = p.slice(2);
  return h === domain || h.endsWith(`.${domain}`);
}

function matches(rule: Rule, finding: Finding, ctx: RuleContext): boolean {
  const { type, host, device } = rule.match;
  if (type && type !== finding.type) return false;
  if (host && !hostMatches(host, ctx.host)) return false;
  if (device && device !== (finding.device ?? ctx.device) && device !== ctx.device && device !== ctx.client) return false;
  return true;
}

export function decide(rules: readonly Rule[], findings: readonly Finding[], ctx: RuleContext): Decision {
  const redact: Finding[] = [];
  const passed: Finding[] = [];
  const touched = new Set<Rule>();
  let block = false;
  for (const finding of findings) {
    const rule = rules.find((r) => matches(r, finding, ctx));
    if (rule) touched.add(rule);
    if (rule?.action === 'block') block = true;
    else if (rule?.action === 'redact') redact.push(finding);
    else passed.push(finding);
  }
  return block ? { block, redact: [], passed: [], touched: [...touched] } : { block, redact, passed, touched: [...touched] };
}
