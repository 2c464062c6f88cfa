// The rules stage of the pipeline: judges one inspected request by the rules in force and says what the
// forwarder must do (block, or send a rewritten request) and what the flow records of it.
import type { Finding, Flow, Headers } from '../../shared/types';
import { headerValue, storedBody } from '../capture/body';
import type { BlockStub, CapturedRequest, Verdict } from '../capture/forward';
import type { Detector, ScanResult } from '../detect';
import { SCAN_CAPPED_TAG } from '../detect/analyze';
import { decide, type Decision } from './decide';
import { CannotRedact, redactRequest, type RedactedRequest } from './redact';
import type { RulesHolder } from './rules-holder';

export interface RulesStage {
  rules: RulesHolder;
  /** checks what a redaction would send: nothing redacted may be left in any form it knows */
  detector: Detector;
}

export interface RulesOutcome {
  verdict: Verdict;
  /** what the flow records of the outcome */
  record: Pick<Flow, 'action' | 'sentUrl' | 'sentBody'>;
  /** findings whose values left as the phone sent them */
  passed: Decision['passed'];
}

const BLOCK_STATUS = 403;

function blocked(text: string, stub?: BlockStub): RulesOutcome {
  return { verdict: { block: { status: BLOCK_STATUS, text: `leakscope: ${text}`, ...(stub ? { stub } : {}) } }, record: { action: 'blocked' }, passed: [] };
}

function blockReason(decision: Decision): string {
  const types = [...new Set(decision.touched.filter((r) => r.action === 'block').map((r) => r.match.type ?? 'identifiers'))];
  return `blocked by a rule (${types.join(', ')} not allowed to leave)`;
}

/** The first concrete media type the app accepts, else the type of what it sent. */
function expectedType(headers: Headers): string | undefined {
  const accepted = headerValue(headers, 'accept')
    ?.split(',')
    .map((t) => t.split(';')[0].trim())
    .find((t) => /^[a-z0-9.+-]+\/[a-z0-9.+-]+$/i.test(t) && !t.includes('*'));
  return accepted ?? headerValue(headers, 'content-type')?.split(';')[0].trim();
}

/** The stub the first blocking rule asks for, if it asks for one (a 403 otherwise). */
function blockStub(decision: Decision, request: CapturedRequest): BlockStub | undefined {
  const answer = decision.touched.find((r) => r.action === 'block')?.answer;
  if (answer === 'no-content') return { status: 204 };
  if (answer === 'empty') {
    const type = expectedType(request.headers);
    return { status: 200, ...(type ? { contentType: type } : {}) };
  }
  return undefined;
}

const origin = (url: string) => new URL(url).origin;
const sameValue = (a: Finding, b: Finding) => a.type === b.type && a.value === b.value;

/** Redacted values the detector still finds in the rewritten request (an encoding chain we could not redo). */
async function leftOver(detector: Detector, request: CapturedRequest, sent: RedactedRequest, redacted: Finding[]): Promise<Finding[]> {
  const scan = await detector.scanRequest({ method: request.method, url: origin(request.url) + sent.path, headers: sent.headers, body: sent.body });
  return scan.findings.filter((f) => redacted.some((r) => sameValue(r, f)));
}

async function redacted(stage: RulesStage, request: CapturedRequest, decision: Decision): Promise<RulesOutcome> {
  let sent: RedactedRequest;
  try {
    sent = await redactRequest(request, decision.redact);
  } catch (err) {
    if (err instanceof CannotRedact) return blocked(`blocked: cannot redact this request (${err.message})`);
    throw err;
  }
  const left = await leftOver(stage.detector, request, sent, decision.redact);
  // Fail closed: a rule asked that these values not leave, and we could not take them all out.
  if (left.length > 0) return blocked(`blocked: could not redact ${left[0].type} (${left[0].encoding}) in ${left[0].where} ${left[0].path}`);
  const sentBody = await storedBody(sent.body, sent.body.length, sent.headers, false);
  return {
    verdict: { rewrite: sent },
    record: { action: 'redacted', sentUrl: origin(request.url) + sent.path, ...(sentBody ? { sentBody } : {}) },
    passed: decision.passed,
  };
}

/** The rules' decision over a request's findings, each rule that decided something marked as used. */
function decided(stage: RulesStage, request: CapturedRequest, scan: ScanResult, device?: string): Decision {
  const decision = decide(stage.rules.get().rules, scan.findings, { host: request.host, client: request.client, device });
  for (const rule of decision.touched) stage.rules.touched(rule);
  return decision;
}

export async function applyRules(stage: RulesStage, request: CapturedRequest, scan: ScanResult, device?: string): Promise<RulesOutcome> {
  const decision = decided(stage, request, scan, device);
  if (decision.block) return blocked(blockReason(decision), blockStub(decision, request));
  if (decision.redact.length > 0) {
    // A capped scan did not list every value, so a redaction could miss some: fail closed.
    if (scan.tags.includes(SCAN_CAPPED_TAG)) return blocked('blocked: too many identifiers in this request to redact them all');
    return redacted(stage, request, decision);
  }
  return { verdict: {}, record: {}, passed: decision.passed };
}

/**
 * The rules over what a stream just sent (a tunnel that is not HTTP, a gRPC message): `block` cuts it. A value
 * is not rewritten within it, so a `redact` rule blocks too, and says so (`what`: the stream, and why).
 */
export function applyStreamRules(stage: RulesStage, request: CapturedRequest, scan: ScanResult, device?: string, what = 'a raw stream, whose framing leakscope cannot know to rewrite it'): RulesOutcome {
  const decision = decided(stage, request, scan, device);
  if (decision.block) return blocked(blockReason(decision));
  if (decision.redact.length > 0) {
    const types = [...new Set(decision.redact.map((f) => f.type))].join(', ');
    return blocked(`blocked: a redact rule matched ${types} in ${what}`);
  }
  return { verdict: {}, record: {}, passed: decision.passed };
}
