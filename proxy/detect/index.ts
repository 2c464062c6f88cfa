// The detection engine: decode a request into segments, match known values and patterns, report findings.
import type { Identifiers } from '../../shared/identifiers';
import type { Headers } from '../../shared/types';
import { analyze, type ScanResult } from './analyze';
import { messageSegments, requestSegments } from './decode/request';
import { buildKnownIndex } from './known/known-index';

export type { ScanResult } from './analyze';

export interface ScanInput {
  method?: string;
  url: string;
  headers: Headers;
  /** raw request body as sent on the wire (Content-Encoding not yet undone) */
  body?: Buffer;
  client?: string;
}

export interface Detector {
  scanRequest(input: ScanInput): Promise<ScanResult>;
  scanWebSocket(url: string, message: Buffer | string, client?: string): Promise<ScanResult>;
  /** bytes of a raw stream (a tunnel that is not HTTP), with no framing to go by: findings are `where: "tcp"` */
  scanStream(data: Buffer, client?: string): Promise<ScanResult>;
}

export interface DetectorOptions {
  /** bytes of a body (and of each decoded layer) that are scanned; default 1 MiB */
  maxScanBytes?: number;
}

export const DEFAULT_MAX_SCAN_BYTES = 1 << 20;

/** Build once per identifiers file: the known-value matcher is made here, not per request. */
export function createDetector(identifiers: Identifiers, options: DetectorOptions = {}): Detector {
  const maxScanBytes = options.maxScanBytes ?? DEFAULT_MAX_SCAN_BYTES;
  const index = buildKnownIndex(identifiers);
  return {
    async scanRequest(input) {
      const segments = requestSegments(input, maxScanBytes);
      return analyze(Array.isArray(segments) ? segments : await segments, index);
    },
    async scanWebSocket(_url, message) {
      const segments = messageSegments(message, maxScanBytes);
      return analyze(Array.isArray(segments) ? segments : await segments, index);
    },
    async scanStream(data) {
      const segments = messageSegments(data, maxScanBytes, 'tcp');
      return analyze(Array.isArray(segments) ? segments : await segments, index);
    },
  };
}

