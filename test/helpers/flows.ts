// Flows as the pipeline hands them to the store, for tests that fill a store directly.
import type { Finding, Flow } from '../../shared/types';

export function draftFlow(opts: {
  start: number;
  host: string;
  findings?: Partial<Finding>[];
  country?: string;
  client?: string;
  device?: string;
  url?: string;
  body?: string;
}): Omit<Flow, 'id'> {
  const findings = (opts.findings ?? []).map(
    (f): Finding => ({ type: 'imei', value: '865123456789012', where: 'body', path: '$.imei', encoding: 'plain', confidence: 'known', ...f }),
  );
  const parts = opts.host.split('.');
  return {
    client: opts.client ?? '192.168.1.23',
    ...(opts.device ? { device: opts.device } : {}),
    method: 'POST',
    url: opts.url ?? `https://${opts.host}/v1/report`,
    host: opts.host,
    httpVersion: 'HTTP/1.1',
    requestHeaders: { 'content-type': 'application/json' },
    ...(opts.body !== undefined ? { requestBody: { text: opts.body, size: Buffer.byteLength(opts.body) } } : {}),
    status: 200,
    responseHeaders: {},
    timings: { start: opts.start, wait: 5, total: 6 },
    findings,
    tags: [],
    destination: { domain: parts.slice(-2).join('.'), ...(opts.country ? { country: opts.country, ip: '203.0.113.9', scope: 'public' as const } : {}) },
  };
}
