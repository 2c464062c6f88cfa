// The whole path of a flow on one screen: capture (forward.ts) → detect → store → stream.
// Each stage is a module with one job; this file only wires them in order.
import type { Flow, FlowSummary } from '../shared/types';
import { summarize } from '../shared/types';
import { storedBody } from './capture/body';
import type { CapturedRequest, Exchange, ForwardHooks, Verdict } from './capture/forward';
import type { Detector, ScanResult } from './detect';
import { lookupDestination } from './destination/lookup';
import { log } from './log';
import type { FlowStore } from './store/flow-store';

export interface PipelineDeps {
  detector: () => Detector;
  store: FlowStore;
  publish: (flow: FlowSummary) => void;
  /** the device name for a client address, if the tester named it */
  deviceName: (client: string) => string | undefined;
}

export interface Pipeline extends ForwardHooks {
  /** Resolves when every flow handed to `complete` so far is stored. */
  drain(): Promise<void>;
}

export function createPipeline(deps: PipelineDeps): Pipeline {
  const scans = new WeakMap<CapturedRequest, ScanResult>();
  const pending = new Set<Promise<void>>();

  async function record(exchange: Exchange, _verdict: Verdict): Promise<void> {
    const req = exchange.request;
    const scan = scans.get(req) ?? { findings: [], tags: [] };
    const device = deps.deviceName(req.client) ?? scan.findings.find((f) => f.device)?.device;
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
      findings: scan.findings,
      tags: scan.tags,
      destination: lookupDestination(req.host, exchange.remoteAddress),
    };
    const flow = deps.store.add(draft);
    deps.publish(summarize(flow));
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
      return {};
    },
    complete(exchange, verdict) {
      const task = record(exchange, verdict)
        .catch((err: Error) => log.error({ err: err.message, url: exchange.request.url }, 'could not record a flow'))
        .finally(() => pending.delete(task));
      pending.add(task);
    },
    async drain() {
      while (pending.size) await Promise.all([...pending]);
    },
  };
}
