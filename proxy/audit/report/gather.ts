// Everything the evidence report states about one session, read from the store in one pass that also writes
// evidence.har (so the hash the report prints is of the very bytes on disk).
import crypto from 'node:crypto';
import fs from 'node:fs';
import type { DiffResult, SessionInfo } from '../../../shared/audit';
import type { Body, Flow, IdentifierType } from '../../../shared/types';
import { IDENTIFIER_TYPES } from '../../../shared/types';
import { writeHar } from '../../har/export';
import type { FlowStore } from '../../store/flow-store';
import type { SessionRef } from '../../store/session-log';
import { diffOf } from '../diff';

export interface ReportIdentifier {
  device: string;
  type: IdentifierType;
  value: string;
  confidence: string;
  requests: number;
}

export interface ReportDevice {
  client: string;
  names: string[];
  flows: number;
}

export interface ReportData {
  session: SessionInfo;
  against?: SessionInfo;
  diff?: DiffResult;
  generated: number;
  version: string;
  modes: string[];
  devices: ReportDevice[];
  identifiers: ReportIdentifier[];
  /** SHA-256 of the CA certificate (DER), colon-separated hex, as browsers and openssl show it */
  caFingerprint?: string;
  flows: number;
  /** first and last flow stored in the report */
  range: { first?: number; last?: number };
  flagged: Flow[];
  /** flow id → SHA-256 (hex) of its request body as evidence.har holds it; absent without a body */
  bodySha256: Map<number, string>;
  harSha256: string;
}

export interface GatherOptions {
  session: SessionRef;
  against?: SessionRef;
  caPem?: string;
  version: string;
  harFile: string;
  now?: number;
}

export function caFingerprint(certPem: string): string {
  const der = Buffer.from(certPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  return crypto.createHash('sha256').update(der).digest('hex').toUpperCase().replace(/(..)(?!$)/g, '$1:');
}

/** The bytes of a stored body as evidence.har carries them: text as UTF-8, binary base64-decoded. */
export function bodyBytes(body: Body): Buffer {
  return Buffer.from(body.text, body.encoding === 'base64' ? 'base64' : 'utf8');
}

/** What a flow records of how it was captured; flows from before capture modes were regular-proxy ones. */
function modeOf(flow: Flow): string {
  const mode = (flow as Flow & { mode?: unknown }).mode;
  return typeof mode === 'string' && mode ? mode : 'regular';
}

export function gatherReport(store: FlowStore, opts: GatherOptions): ReportData {
  const ref = opts.session;
  const againstRef = opts.against;
  // A snapshot: flows stored after this point (the session may still be running) are in neither the HAR nor the text.
  const upTo = store.lastId();
  const modes = new Set<string>();
  const devices = new Map<string, ReportDevice>();
  const identifiers = new Map<string, ReportIdentifier & { ids: Set<number> }>();
  const flagged: Flow[] = [];
  const bodySha256 = new Map<number, string>();
  const range: ReportData['range'] = {};
  let flows = 0;

  function note(flow: Flow): void {
    flows++;
    modes.add(modeOf(flow));
    const start = flow.timings.start;
    range.first = Math.min(range.first ?? start, start);
    range.last = Math.max(range.last ?? start, start);
    const device = devices.get(flow.client) ?? { client: flow.client, names: [], flows: 0 };
    device.flows++;
    if (flow.device && !device.names.includes(flow.device)) device.names.push(flow.device);
    devices.set(flow.client, device);
    if (flow.findings.length === 0) return;
    flagged.push(flow);
    if (flow.requestBody && flow.requestBody.text !== '') bodySha256.set(flow.id, crypto.createHash('sha256').update(bodyBytes(flow.requestBody)).digest('hex'));
    for (const f of flow.findings) {
      const who = f.device ?? flow.device ?? flow.client;
      const key = [who, f.type, f.value, f.confidence].join('\0');
      const entry = identifiers.get(key) ?? { device: who, type: f.type, value: f.value, confidence: f.confidence, requests: 0, ids: new Set<number>() };
      entry.ids.add(flow.id);
      entry.requests = entry.ids.size;
      identifiers.set(key, entry);
    }
  }

  function* noted(): Generator<Flow> {
    for (const flow of store.flows({ session: ref.id, before: upTo + 1 })) {
      note(flow);
      yield flow;
    }
  }

  const hash = crypto.createHash('sha256');
  const fd = fs.openSync(opts.harFile, 'w');
  try {
    writeHar(noted(), (chunk) => {
      hash.update(chunk);
      fs.writeSync(fd, chunk);
    });
  } finally {
    fs.closeSync(fd);
  }

  return {
    session: store.sessions.info(ref.id),
    ...(againstRef ? { against: store.sessions.info(againstRef.id), diff: diffOf(store, againstRef, ref) } : {}),
    generated: opts.now ?? Date.now(),
    version: opts.version,
    modes: [...modes].sort(),
    devices: [...devices.values()],
    identifiers: [...identifiers.values()].map(({ ids: _ids, ...rest }) => rest).sort((a, b) => a.device.localeCompare(b.device) || IDENTIFIER_TYPES.indexOf(a.type) - IDENTIFIER_TYPES.indexOf(b.type)),
    ...(opts.caPem ? { caFingerprint: caFingerprint(opts.caPem) } : {}),
    flows,
    range,
    flagged,
    bodySha256,
    harSha256: hash.digest('hex'),
  };
}
