// The whole path of a flow on one screen: capture (forward.ts) → detect → rules → store → stream.
// Each stage is a module with one job; this file only wires them in order.
import type { Destination, Finding, Flow, FlowSummary } from '../shared/types';
import { summarize } from '../shared/types';
import { storedBody } from './capture/body';
import { REQUEST_CAPTURE_BYTES } from './capture/limits';
import type { CapturedRequest, Exchange, ForwardHooks, Verdict } from './capture/forward';
import type { WebSocketMessage, WebSocketVerdict } from './capture/mitm';
import type { Detector, ScanResult } from './detect';
import { FOREIGN_TAG, isForeign } from './destination/foreign';
import { lookupDestination } from './destination/lookup';
import { log } from './log';
import { applyRules, type RulesOutcome } from './rules/apply';
import type { RulesHolder } from './rules/rules-holder';
import type { FlowStore } from './store/flow-store';
import { attributed, attributeLater, type Attribution, type TrackerAttributor } from './trackers/attribute';

export interface PipelineDeps {
  detector: () => Detector;
  store: FlowStore;
  publish: (flow: FlowSummary) => void;
  /** the device name for a client address, if the tester named it */
  deviceName: (client: string) => string | undefined;
  rules: RulesHolder;
  /** flows whose identifiers leave for another country are tagged `foreign` */
  homeCountry?: string;
  /** names the tracker a request went to (off the forwarding path); none: flows are not attributed */
  trackers?: TrackerAttributor;
}

export interface Pipeline extends ForwardHooks {
  /**
   * Scans a message a phone sent over a WebSocket and judges it by the rules; one that carries findings is
   * stored as a flow of its own before the verdict is given.
   */
  webSocketMessage(message: WebSocketMessage): Promise<WebSocketVerdict>;
  /** Resolves when every flow handed to `complete` so far is stored. */
  drain(): Promise<void>;
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return '';
  }
}

/** A WebSocket message as the rules stage sees requests: its data is the body. */
function messageAsRequest(message: WebSocketMessage, data: Buffer, host: string): CapturedRequest {
  return {
    client: message.client,
    method: 'WS',
    url: message.url,
    host,
    port: 0,
    isSSL: message.url.startsWith('wss:'),
    path: '',
    httpVersion: 'HTTP/1.1',
    headers: {},
    body: data,
    bodyTruncated: data.length > REQUEST_CAPTURE_BYTES,
    start: message.time,
  };
}

export function createPipeline(deps: PipelineDeps): Pipeline {
  const scans = new WeakMap<CapturedRequest, ScanResult>();
  const outcomes = new WeakMap<CapturedRequest, RulesOutcome>();
  const attributions = new WeakMap<CapturedRequest, Promise<Attribution | undefined>>();
  const pending = new Set<Promise<void>>();

  /** The device a flow came from: the name the tester gave its client, else the one its known values name. */
  function deviceOf(client: string, scan: ScanResult): string | undefined {
    return deps.deviceName(client) ?? scan.findings.find((f) => f.device)?.device;
  }

  function judge(request: CapturedRequest, scan: ScanResult): Promise<RulesOutcome> {
    return applyRules({ rules: deps.rules, detector: deps.detector() }, request, scan, deps.deviceName(request.client));
  }

  async function record(exchange: Exchange, _verdict: Verdict): Promise<void> {
    const req = exchange.request;
    const scan = scans.get(req) ?? { findings: [], tags: [] };
    const device = deviceOf(req.client, scan);
    const outcome = outcomes.get(req);
    const attribution = await attributions.get(req);
    const destination = lookupDestination(req.host, exchange.remoteAddress);
    const draft: Omit<Flow, 'id'> = {
      client: req.client,
      ...(device ? { device } : {}),
      method: req.method,
      url: req.url,
      host: req.host,
      httpVersion: req.httpVersion,
      requestHeaders: req.headers,
      requestBody: await storedBody(req.body, exchange.requestSize, req.headers, req.bodyTruncated),
      status: exchange.status,
      statusText: exchange.statusText,
      responseHeaders: exchange.responseHeaders,
      responseBody: await storedBody(exchange.responseBody, exchange.responseSize, exchange.responseHeaders, exchange.responseTruncated),
      timings: { start: req.start, wait: exchange.wait, total: exchange.total },
      ...(exchange.error ? { error: exchange.error } : {}),
      findings: attributed(scan.findings, attribution),
      tags: tagsOf(scan, destination, [...(outcome?.passed ?? scan.findings), ...(attribution?.findings ?? [])]),
      destination,
      ...outcome?.record,
      ...(attribution ? { tracker: attribution.tracker } : {}),
    };
    const flow = await deps.store.commit(draft);
    deps.publish(summarize(flow));
  }

  /** `foreign` joins the detector's tags when what left (`passed`) went abroad. */
  function tagsOf(scan: ScanResult, destination: Destination, passed: Finding[]): string[] {
    return isForeign(destination, passed, deps.homeCountry) ? [...scan.tags, FOREIGN_TAG] : scan.tags;
  }

  async function inspectWebSocketMessage(message: WebSocketMessage): Promise<WebSocketVerdict> {
    const scan = await deps.detector().scanWebSocket(message.url, message.data, message.client);
    // Frames are many and mostly chatter: only those that leak something become flows.
    if (scan.findings.length === 0) return {};
    const data = typeof message.data === 'string' ? Buffer.from(message.data) : message.data;
    const host = hostOf(message.url);
    const request = messageAsRequest(message, data, host);
    const outcome = await judge(request, scan);
    const device = deviceOf(message.client, scan);
    const destination = lookupDestination(host, undefined);
    const flow = await deps.store.commit({
      client: message.client,
      ...(device ? { device } : {}),
      method: 'WS',
      url: message.url,
      host,
      httpVersion: 'HTTP/1.1',
      requestHeaders: {},
      requestBody: await storedBody(data, data.length, undefined, request.bodyTruncated),
      timings: { start: message.time, total: 0 },
      findings: scan.findings,
      tags: [...tagsOf(scan, destination, outcome.passed), 'websocket'],
      destination,
      // a redaction's sent URL is the message's own: only what was done and what went out are news
      ...(outcome.record.action ? { action: outcome.record.action } : {}),
      ...(outcome.record.sentBody ? { sentBody: outcome.record.sentBody } : {}),
    });
    deps.publish(summarize(flow));
    if (outcome.verdict.block) return { drop: true };
    return outcome.verdict.rewrite ? { data: outcome.verdict.rewrite.body } : {};
  }

  function track(task: Promise<void>, what: string): Promise<void> {
    const tracked = task
      .catch((err: Error) => log.error({ err: err.message, what }, 'could not record a flow'))
      .finally(() => pending.delete(tracked));
    pending.add(tracked);
    return tracked;
  }

  return {
    async inspect(request) {
      const scan = await deps.detector().scanRequest({
        method: request.method,
        url: request.url,
        headers: request.headers,
        body: request.body,
        client: request.client,
      });
      scans.set(request, scan);
      const outcome = await judge(request, scan);
      outcomes.set(request, outcome);
      if (deps.trackers) attributions.set(request, attributeLater(deps.trackers, request, scan.findings));
      return outcome.verdict;
    },
    complete(exchange, verdict) {
      return track(record(exchange, verdict), exchange.request.url);
    },
    webSocketMessage(message) {
      const verdict = inspectWebSocketMessage(message);
      track(verdict.then(() => undefined), message.url);
      return verdict;
    },
    async drain() {
      while (pending.size) await Promise.all([...pending]);
    },
  };
}
