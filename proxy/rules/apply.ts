// The rules stage of the pipeline: judges one inspected request by the rules in force and says what the
// forwarder must do (block, or send a rewritten request) and what the flow records of it.
import type { Flow } from '../../shared/types';
import type { CapturedRequest, Verdict } from '../capture/forward';
import type { ScanResult } from '../detect';
import { decide, type Decision } from './decide';
import type { RulesHolder } from './rules-holder';

export interface RulesOutcome {
  verdict: Verdict;
  /** what the flow records of the outcome */
  record: Pick<Flow, 'action' | 'sentUrl' | 'sentBody'>;
  /** findings whose values left as the phone sent them */
  passed: Decision['passed'];
}

const BLOCK_STATUS = 403;

function blockText(decision: Decision): string {
  const types = [...new Set(decision.touched.filter((r) => r.action === 'block').map((r) => r.match.type ?? 'identifiers'))];
  return `leakscope: blocked by a rule (${types.join(', ')} not allowed to leave)`;
}

export async function applyRules(holder: RulesHolder, request: CapturedRequest, scan: ScanResult, device?: string): Promise<RulesOutcome> {
  const decision = decide(holder.get().rules, scan.findings, { host: request.host, client: request.client, device });
  for (const rule of decision.touched) holder.touched(rule);
  if (decision.block) {
    return { verdict: { block: { status: BLOCK_STATUS, text: blockText(decision) } }, record: { action: 'blocked' }, passed: [] };
  }
  return { verdict: {}, record: {}, passed: decision.passed };
}
