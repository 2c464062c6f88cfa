// The whole path of a flow on one screen: capture (forward.ts) → detect → rules → store → stream.
// Each stage is a module with one job; this file only wires them in order.
import type { Destination, Finding, Flow, FlowSummary, WebSocketMessage } from '../shared/types';
import { summarize } from '../shared/types';
import { storedBody } from './capture/body';
import { parseAuthority } from './capture/connect-target';
import { REQUEST_CAPTURE_BYTES, WEBSOCKET_DATA_BYTES, WEBSOCKET_MESSAGES } from './capture/limits';
import type { CapturedRequest, Exchange, ForwardHooks, Verdict } from './capture/forward';
import type { WebSocketData, WebSocketHandshake, WebSocketHooks, WebSocketSession } from './capture/websocket';
import type { Tunnel, TunnelHooks } from './capture/raw';
import type { Detector, ScanResult } from './detect';
import { FINDINGS_PER_SCAN, SCAN_CAPPED_TAG } from './detect/analyze';
import { credited } from './detect/credit';
import { FOREIGN_TAG, isForeign } from './destination/foreign';
import { lookupDestination } from './destination/lookup';
import { log } from './log';
import { applyRules, applyStreamRules, type RulesOutcome } from './rules/apply';
import type { RulesHolder } from './rules/rules-holder';
import type { FlowWriter } from './store/flow-writer';
import { attributed, attributeLater, type Attribution, type TrackerAttributor } from './trackers/attribute';

export interface PipelineDeps {
  detector: () => Detector;
  store: FlowWriter;
  publish: (flow: FlowSummary) => void;
  /** the device name for a client address, if the tester named it */
  deviceName: (client: string) => string | undefined;
  rules: RulesHolder;
  /** flows whose identifiers leave for another country are tagged `foreign` */
  homeCountry?: string;
  /** names the tracker a request went to (off the forwarding path); none: flows are not attributed */
  trackers?: TrackerAttributor;
}

export interface Pipeline extends ForwardHooks, TunnelHooks, WebSocketHooks {
  /** Resolves when every flow handed to `complete` so far is stored. */
  drain(): Promise<void>;
}

/** A tunnel's address as its flow's URL shows it: `tcp://host:port`, or `tls://` when leakscope ended TLS on it. */
function tunnelUrl(tunnel: Tunnel): string {
  const host = tunnel.host.includes(':') ? `[${tunnel.host}]` : tunnel.host;
  return `${tunnel.tls ? 'tls' : 'tcp'}://${host}:${tunnel.port}`;
}

/** A raw stream's latest bytes as the rules stage sees requests: they are the body. */
function tunnelAsRequest(tunnel: Tunnel, window: Buffer): CapturedRequest {
  return {
    client: tunnel.client,
    method: 'TCP',
    url: tunnelUrl(tunnel),
    host: tunnel.host,
    port: tunnel.port,
    isSSL: tunnel.tls,
    path: '',
    httpVersion: '',
    headers: {},
    body: window,
    bodyTruncated: false,
    start: tunnel.start,
  };
}

/** What a tunnel's flow has gathered while open: findings so far (each once), and where it is stored. */
interface TunnelRecord {
  findings: Finding[];
  seen: Set<string>;
  tags: Set<string>;
  passed: Finding[];
  action?: Flow['action'];
  id?: number;
  /** the last store or update of its flow: the next one waits for it */
  saved: Promise<void>;
}

const findingKey = (f: Finding) => `${f.type}\0${f.value}\0${f.path}\0${f.encoding}\0${f.device ?? ''}`;

/** A WebSocket message as the rules stage sees requests: its data is the body. */
function messageAsRequest(handshake: WebSocketHandshake, message: WebSocketData): CapturedRequest {
  return {
    client: handshake.client,
    method: 'WS',
    url: handshake.url,
    host: handshake.host,
    port: handshake.port,
    isSSL: handshake.url.startsWith('wss:'),
    path: '',
    httpVersion: 'HTTP/1.1',
    headers: {},
    body: message.data,
    bodyTruncated: message.data.length > REQUEST_CAPTURE_BYTES,
    start: message.time,
  };
}

/**
 * A flow stored while it is still open (a tunnel, a WebSocket): the first save commits it, each later one
 * rewrites it in place under the same id; saves run one after another, each with the flow as it then stands.
 */
function liveFlow(store: FlowWriter, publish: (flow: FlowSummary) => void) {
  let id: number | undefined;
  let saved = Promise.resolve();
  return (draft: () => Promise<Omit<Flow, 'id'>>): Promise<void> => {
    saved = saved.then(async () => {
      const made = await draft();
      const flow = id === undefined ? await store.commit(made) : await store.update({ id, ...made });
      id = flow.id;
      publish(summarize(flow));
    });
    return saved;
  };
}

/** A message as its flow lists it: its data as text or base64, cut where the flow's data cap runs out. */
function listedMessage(type: WebSocketMessage['type'], message: WebSocketData, room: number): WebSocketMessage {
  const kept = message.data.length > room ? message.data.subarray(0, Math.max(room, 0)) : message.data;
  return {
    type,
    time: message.time,
    opcode: message.opcode,
    data: kept.toString(message.opcode === 1 ? 'utf8' : 'base64'),
    size: message.data.length,
    ...(kept.length < message.data.length ? { truncated: true } : {}),
  };
}

/** How often an open WebSocket's flow is saved with the messages it gained (one with a finding is saved at once). */
const WEBSOCKET_SAVE_MS = 1000;

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
    // The domain is the one the app named (an app resolving names itself dials an address); ip and country are
    // those of the address connected to.
    const named = req.hostHeader ? parseAuthority(req.hostHeader, req.port)?.host : undefined;
    const destination = lookupDestination(named ?? req.host, exchange.remoteAddress);
    const draft: Omit<Flow, 'id'> = {
      kind: 'http',
      ...(req.mode ? { mode: req.mode } : {}),
      client: req.client,
      ...(device ? { device } : {}),
      method: req.method,
      url: req.url,
      host: req.host,
      ...(req.hostHeader ? { hostHeader: req.hostHeader } : {}),
      httpVersion: req.httpVersion,
      requestHeaders: req.headers,
      requestBody: await requestBodyOf(req, exchange.requestSize),
      status: exchange.status,
      statusText: exchange.statusText,
      responseHeaders: exchange.responseHeaders,
      responseBody: await storedBody(exchange.responseBody, exchange.responseSize, exchange.responseHeaders, exchange.responseTruncated),
      ...(exchange.requestTrailers ? { requestTrailers: exchange.requestTrailers } : {}),
      ...(exchange.responseTrailers ? { responseTrailers: exchange.responseTrailers } : {}),
      timings: { start: req.start, wait: exchange.wait, total: exchange.total },
      ...(exchange.error ? { error: exchange.error } : {}),
      findings: credited(attributed(scan.findings, attribution), device),
      tags: tagsOf(scan, destination, [...(outcome?.passed ?? scan.findings), ...(attribution?.findings ?? [])]),
      destination,
      ...outcome?.record,
      ...(attribution ? { tracker: attribution.tracker } : {}),
    };
    const flow = await deps.store.commit(draft, req);
    deps.publish(summarize(flow));
  }

  /** `foreign` joins the detector's tags when what left (`passed`) went abroad. */
  function tagsOf(scan: ScanResult, destination: Destination, passed: Finding[]): string[] {
    return isForeign(destination, passed, deps.homeCountry) ? [...scan.tags, FOREIGN_TAG] : scan.tags;
  }

  /** One WebSocket connection's flow: stored when the server answers, saved again as messages and findings come. */
  function openWebSocket(handshake: WebSocketHandshake): WebSocketSession {
    const messages: WebSocketMessage[] = [];
    let omitted = 0;
    let dataLeft = WEBSOCKET_DATA_BYTES;
    const findings: Finding[] = [];
    const tags = new Set<string>(['websocket']);
    const passed: Finding[] = [];
    let action: Flow['action'];
    let end: { closedBy: Flow['closedBy']; error?: string; time: number } | undefined;
    const named = handshake.hostHeader ? parseAuthority(handshake.hostHeader, handshake.port)?.host : undefined;
    const destination = lookupDestination(named ?? handshake.host, handshake.remoteAddress);
    const save = liveFlow(deps.store, deps.publish);
    const draft = async (): Promise<Omit<Flow, 'id'>> => {
      const scan: ScanResult = { findings, tags: [...tags] };
      const device = deviceOf(handshake.client, scan);
      return {
        kind: 'websocket',
        client: handshake.client,
        ...(device ? { device } : {}),
        method: 'GET',
        url: handshake.url,
        host: handshake.host,
        ...(handshake.hostHeader ? { hostHeader: handshake.hostHeader } : {}),
        httpVersion: 'HTTP/1.1',
        requestHeaders: handshake.requestHeaders,
        status: handshake.status,
        statusText: handshake.statusText,
        responseHeaders: handshake.responseHeaders,
        timings: { start: handshake.start, wait: handshake.wait, ...(end ? { total: end.time - handshake.start } : {}) },
        ...(end ? { closedBy: end.closedBy } : {}),
        ...(end?.error ? { error: end.error } : {}),
        findings: credited(findings, device),
        tags: tagsOf(scan, destination, passed),
        destination,
        ...(action ? { action } : {}),
        messages: [...messages],
        ...(omitted ? { messagesOmitted: omitted } : {}),
      };
    };
    let timer: NodeJS.Timeout | undefined;
    const saveNow = () => {
      clearTimeout(timer);
      timer = undefined;
      return track(save(draft), handshake.url);
    };
    const saveSoon = () => (timer ??= setTimeout(saveNow, WEBSOCKET_SAVE_MS).unref());
    /** Lists a message; its index, or undefined past the cap on how many are listed. */
    const list = (type: WebSocketMessage['type'], message: WebSocketData) => {
      if (messages.length >= WEBSOCKET_MESSAGES) {
        omitted++;
        return undefined;
      }
      const listed = listedMessage(type, message, dataLeft);
      dataLeft -= Math.min(message.data.length, Math.max(dataLeft, 0));
      return messages.push(listed) - 1;
    };
    void saveNow();
    return {
      async send(message) {
        // Listed now, in the order the messages came, whatever the scan takes.
        const index = list('send', message);
        const scan = await deps.detector().scanWebSocket(handshake.url, message.data, handshake.client);
        if (scan.findings.length === 0) {
          saveSoon();
          return {};
        }
        const outcome = await judge(messageAsRequest(handshake, message), scan);
        const rewrite = outcome.verdict.rewrite?.body;
        const done = outcome.verdict.block ? 'blocked' : rewrite ? 'redacted' : undefined;
        if (index !== undefined && done) {
          messages[index].action = done;
          if (rewrite) messages[index].sentData = rewrite.toString(message.opcode === 1 ? 'utf8' : 'base64');
        }
        findings.push(...scan.findings.map((f) => (index === undefined ? f : { ...f, message: index })));
        for (const tag of scan.tags) tags.add(tag);
        passed.push(...outcome.passed);
        if (done && action !== 'blocked') action = done;
        // Shown while the connection is still open, and on disk before the message goes on.
        await saveNow();
        if (outcome.verdict.block) return { drop: true };
        return rewrite ? { data: rewrite } : {};
      },
      receive(message) {
        list('receive', message);
        saveSoon();
      },
      close(how) {
        end = { ...how, time: Date.now() };
        saveNow();
      },
    };
  }

  const tunnels = new WeakMap<Tunnel, TunnelRecord>();
  function tunnelRecord(tunnel: Tunnel): TunnelRecord {
    let rec = tunnels.get(tunnel);
    if (!rec) {
      rec = { findings: [], seen: new Set(), tags: new Set(), passed: [], saved: Promise.resolve() };
      tunnels.set(tunnel, rec);
    }
    return rec;
  }

  async function tunnelDraft(tunnel: Tunnel, rec: TunnelRecord): Promise<Omit<Flow, 'id'>> {
    const scan: ScanResult = { findings: rec.findings, tags: [...rec.tags] };
    const device = deviceOf(tunnel.client, scan);
    const destination = lookupDestination(tunnel.host, tunnel.remoteAddress);
    const sent = Buffer.concat(tunnel.sent);
    const received = Buffer.concat(tunnel.received);
    return {
      kind: 'tcp',
      mode: tunnel.mode,
      tls: tunnel.tls,
      client: tunnel.client,
      ...(device ? { device } : {}),
      method: 'TCP',
      url: tunnelUrl(tunnel),
      host: tunnel.host,
      httpVersion: '',
      requestHeaders: {},
      requestBody: await storedBody(sent, tunnel.sentSize, undefined, tunnel.sentSize > sent.length),
      responseBody: await storedBody(received, tunnel.receivedSize, undefined, tunnel.receivedSize > received.length),
      timings: { start: tunnel.start, ...(tunnel.end ? { total: tunnel.end - tunnel.start } : {}) },
      ...(tunnel.closedBy ? { closedBy: tunnel.closedBy } : {}),
      ...(tunnel.error ? { error: tunnel.error } : {}),
      findings: credited(rec.findings, device),
      tags: tagsOf(scan, destination, rec.passed),
      destination,
      ...(rec.action ? { action: rec.action } : {}),
    };
  }

  /** Stores the tunnel's flow as it stands: the first time as a new flow, then in place under the same id. */
  function saveTunnel(tunnel: Tunnel, rec: TunnelRecord): Promise<void> {
    rec.saved = rec.saved.then(async () => {
      const draft = await tunnelDraft(tunnel, rec);
      const flow = rec.id === undefined ? await deps.store.commit(draft) : await deps.store.update({ id: rec.id, ...draft });
      rec.id = flow.id;
      deps.publish(summarize(flow));
    });
    return rec.saved;
  }

  async function inspectStream(tunnel: Tunnel, window: Buffer): Promise<{ close?: string }> {
    const scan = await deps.detector().scanStream(window, tunnel.client);
    const rec = tunnelRecord(tunnel);
    for (const tag of scan.tags) rec.tags.add(tag);
    // The window repeats the tail of the read before: what was found there is not new.
    const fresh = scan.findings.filter((f) => !rec.seen.has(findingKey(f)) && rec.seen.add(findingKey(f)));
    if (fresh.length === 0) return {};
    // A flow keeps at most as many findings as one request's scan does, however long the stream runs.
    const room = FINDINGS_PER_SCAN - rec.findings.length;
    if (fresh.length > room) rec.tags.add(SCAN_CAPPED_TAG);
    rec.findings.push(...fresh.slice(0, Math.max(room, 0)));
    const outcome = applyStreamRules({ rules: deps.rules, detector: deps.detector() }, tunnelAsRequest(tunnel, window), { findings: fresh, tags: scan.tags }, deps.deviceName(tunnel.client));
    rec.passed.push(...outcome.passed);
    if (outcome.verdict.block) {
      rec.action = 'blocked';
      // The flow is stored as the tunnel closes, with this reason as its error.
      return { close: outcome.verdict.block.text.replace(/^leakscope: /, '') };
    }
    // Shown while the connection is still open; the bytes go on meanwhile.
    void track(saveTunnel(tunnel, rec), tunnelUrl(tunnel));
    return {};
  }

  /** Streamed bodies (gRPC): the first REQUEST_CAPTURE_BYTES of the frames, kept as they passed. */
  const streamed = new WeakMap<CapturedRequest, Buffer[]>();

  function requestBodyOf(req: CapturedRequest, size: number) {
    const frames = streamed.get(req);
    if (!frames) return storedBody(req.body, size, req.headers, req.bodyTruncated);
    const kept = Buffer.concat(frames);
    // The frames are stored as sent: their compression is gRPC's own, not a Content-Encoding to undo.
    return storedBody(kept, size, {}, size > kept.length);
  }

  /** One gRPC message: scanned, its new findings joined to its call's, judged by the rules before it leaves. */
  async function judgeMessage(request: CapturedRequest, payload: Buffer, frame: Buffer): Promise<{ close?: string }> {
    const frames = streamed.get(request) ?? [];
    streamed.set(request, frames);
    const keptSize = frames.reduce((n, f) => n + f.length, 0);
    if (keptSize < REQUEST_CAPTURE_BYTES) frames.push(frame.subarray(0, REQUEST_CAPTURE_BYTES - keptSize));
    const message = await deps.detector().scanRequest({ method: request.method, url: request.url, headers: { 'content-type': String(request.headers['content-type'] ?? '') }, body: payload, client: request.client });
    const scan = scans.get(request) ?? { findings: [], tags: [] };
    scans.set(request, scan);
    const seen = new Set(scan.findings.map(findingKey));
    const fresh = message.findings.filter((f) => !seen.has(findingKey(f)) && seen.add(findingKey(f)));
    scan.tags = [...new Set([...scan.tags, ...message.tags])];
    if (fresh.length === 0) return {};
    scan.findings.push(...fresh.slice(0, Math.max(FINDINGS_PER_SCAN - scan.findings.length, 0)));
    const outcome = applyStreamRules({ rules: deps.rules, detector: deps.detector() }, request, { findings: fresh, tags: message.tags }, deps.deviceName(request.client), 'a gRPC message, which leakscope does not rewrite');
    if (!outcome.verdict.block) return {};
    outcomes.set(request, outcome);
    return { close: outcome.verdict.block.text.replace(/^leakscope: /, '') };
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
    openWebSocket,
    judgeMessage,
    inspectStream,
    closeTunnel(tunnel) {
      return track(saveTunnel(tunnel, tunnelRecord(tunnel)), tunnelUrl(tunnel));
    },
    async drain() {
      while (pending.size) await Promise.all([...pending]);
    },
  };
}
