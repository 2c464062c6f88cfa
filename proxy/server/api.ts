// The dashboard's JSON API (shapes in shared/api.ts). Read-only routes answer from the store; the few
// mutations (identifiers, device names, marks, rules, Android setup) go through requireSameOriginJson, downloads through
// requireOwnOriginDownload.
import express from 'express';
import type { DeviceInfo, RulesResponse, ValidationError, ServerConfig, StatsResponse, SummaryResponse } from '../../shared/api';
import { FilterError, parseFilter } from '../../shared/filter';
import { parseIdentifiers } from '../../shared/identifiers';
import type { Issue } from '../../shared/issues';
import { parseRules } from '../../shared/rules';
import type { TlsErrorEvent, UdpDroppedEvent } from '../../shared/types';
import { addCanaries, makeCanaries, vcardFile } from '../cli/canaries';
import { UsageError } from '../cli/errors';
import type { IdentifiersHolder } from '../config/identifiers-holder';
import { writeHar } from '../har/export';
import { exportHarName, flowHarName } from '../../shared/har-name';
import type { RulesHolder } from '../rules/rules-holder';
import type { FlowQuery, FlowStore } from '../store/flow-store';
import { androidRouter, type AndroidSessions } from './android-api';
import { requireSameOriginJson } from './auth';
import { requireOwnOriginDownload, type HostCheck } from './host-check';
import { eventLoopDelay } from './loop-delay';
import { sessionErrors, sessionParam, sessionsRouter } from './sessions-api';

export interface ApiDeps {
  store: FlowStore;
  identifiers: IdentifiersHolder;
  rules: RulesHolder;
  tlsErrors: () => TlsErrorEvent[];
  /** UDP from the WireGuard tunnel that was not passed on, newest first (empty without WireGuard mode) */
  udpDropped?: () => UdpDroppedEvent[];
  config: ServerConfig;
  /** where report bundles are written (DATA_DIR/reports) and the CA is read from */
  dataDir: string;
  /** the dashboard's own host names (DNS rebinding guard) */
  hostAllowed: HostCheck;
  /** the phones set up over ADB from the Setup view */
  android: AndroidSessions;
}

const MAX_COMMENT = 4000;

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function int(v: unknown): number | undefined {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined;
  return n !== undefined && Number.isSafeInteger(n) ? n : undefined;
}

/** `filter=EXPR`, parsed; a bad one throws FilterError (answered 400 by filterErrors). */
function filterParam(v: unknown) {
  const src = str(v);
  return src === undefined ? undefined : parseFilter(src);
}

/** A query parameter that cannot mean anything (answered 400). */
class QueryError extends Error {}

/** A refused document: the sentences for people, and each fault's path for programs (shared/issues.ts). */
const refusal = (issues: Issue[]): ValidationError => ({ error: issues.map((i) => i.message).join('; '), issues });

const filterErrors: express.ErrorRequestHandler = (err, _req, res, next) => {
  if (err instanceof FilterError) return void res.status(400).json({ error: err.message, position: err.position });
  if (err instanceof QueryError) return void res.status(400).json({ error: err.message });
  next(err);
};

/** `from=` / `to=`: ms since 1970, or an ISO 8601 date and time (`2026-12-01T14:00:00Z`). */
function timeParam(v: unknown, name: string): number | undefined {
  const src = str(v);
  if (src === undefined) return undefined;
  const ms = /^\d+$/.test(src) ? Number(src) : /^\d{4}-\d{2}-\d{2}/.test(src) ? Date.parse(src) : NaN;
  if (!Number.isSafeInteger(ms)) throw new QueryError(`${name}: a time in ms since 1970 or ISO 8601 (2026-12-01T14:00:00Z), not "${src.slice(0, 40)}"`);
  return ms;
}

export function flowQuery(q: Record<string, unknown>): FlowQuery {
  const ids = str(q.ids)
    ?.split(',')
    .map((s) => int(s.trim()))
    .filter((n): n is number => n !== undefined);
  return {
    flagged: q.flagged === '1' || q.flagged === 'true',
    limit: int(q.limit),
    after: int(q.after),
    before: int(q.before),
    device: str(q.device),
    type: str(q.type),
    host: str(q.host),
    confidence: str(q.confidence),
    tracker: str(q.tracker),
    q: str(q.q),
    ids,
    filter: filterParam(q.filter),
    from: timeParam(q.from, 'from'),
    to: timeParam(q.to, 'to'),
  };
}

export function apiRouter(deps: ApiDeps): express.Router {
  const { store, identifiers } = deps;
  const api = express.Router();
  api.use(express.json({ limit: '1mb' }));
  api.use(requireSameOriginJson(deps.hostAllowed));

  api.get('/health', (_req, res) => {
    res.json({ ok: true });
  });
  api.get('/stats', (_req, res) => {
    const stats: StatsResponse = { flows: store.count(), eventLoopDelay: eventLoopDelay() };
    res.json(stats);
  });
  api.get('/config', (_req, res) => {
    res.json(deps.config);
  });
  // `session` (a name or id) narrows the flows, the summary, the devices and the export to one capture session.
  const scoped = (q: Record<string, unknown>): FlowQuery => ({ ...flowQuery(q), session: sessionParam(store, q.session) });
  api.get('/flows', (req, res) => {
    res.json(store.summaries(scoped(req.query)));
  });
  api.get('/timeline', (req, res) => {
    res.json(store.timeline(scoped(req.query)));
  });
  api.get('/flows/:id', (req, res) => {
    const id = int(req.params.id);
    const flow = id === undefined ? undefined : store.get(id);
    if (!flow) return void res.status(404).json({ error: `no flow ${req.params.id}` });
    res.json(flow);
  });
  api.put('/flows/:id/mark', (req, res) => {
    const id = int(req.params.id);
    const body = (req.body ?? {}) as { marked?: unknown; comment?: unknown };
    if (typeof body.marked !== 'boolean') return void res.status(400).json({ error: 'marked: true or false' });
    if (body.comment !== undefined && (typeof body.comment !== 'string' || body.comment.length > MAX_COMMENT))
      return void res.status(400).json({ error: `comment: a string of at most ${MAX_COMMENT} characters` });
    const flow = id === undefined ? undefined : store.mark(id, body.marked, (body.comment as string | undefined)?.trim() ?? '');
    if (!flow) return void res.status(404).json({ error: `no flow ${req.params.id}` });
    res.json(flow);
  });
  api.get('/summary', (req, res) => {
    const { from, to } = flowQuery(req.query);
    const body: SummaryResponse = { rows: store.summary({ session: sessionParam(store, req.query.session), from, to }) };
    res.json(body);
  });
  api.get('/export.har', requireOwnOriginDownload(deps.hostAllowed), (req, res) => {
    const query = scoped(req.query);
    res.type('application/json');
    const one = query.ids?.length === 1 ? store.get(query.ids[0]) : undefined;
    res.set('content-disposition', `attachment; filename="${one ? flowHarName(one) : exportHarName()}"`);
    writeHar(store.flows({ ...query, limit: undefined }), (chunk) => res.write(chunk));
    res.end();
  });
  api.get('/devices', (req, res) => {
    const named = identifiers.get();
    const devices: DeviceInfo[] = store.devices({ session: sessionParam(store, req.query.session) }).map((d) => ({
      ...d,
      name: d.name ?? named.devices.find((x) => x.client === d.client)?.name ?? undefined,
    }));
    res.json(devices);
  });
  api.put('/devices/:client', (req, res) => {
    const name = (req.body as { name?: unknown })?.name;
    if (typeof name !== 'string' || name.trim() === '' || name.length > 100) {
      return void res.status(400).json({ error: 'name: a non-empty string of at most 100 characters' });
    }
    store.renameDevice(req.params.client, name.trim());
    res.json({ ok: true });
  });
  api.get('/identifiers', (_req, res) => {
    res.json(identifiers.get());
  });
  api.put('/identifiers', (req, res) => {
    const parsed = parseIdentifiers(req.body);
    if (!parsed.ok) return void res.status(400).json(refusal(parsed.issues));
    identifiers.set(parsed.value);
    res.json(parsed.value);
  });
  // The canaries are added to the identifiers in force (so detection watches for them at once) and returned as
  // vCard 3.0 for the phone's address book. POST, not a plain link: it changes what detection looks for.
  api.post('/canaries.vcf', (req, res) => {
    const count = (req.body as { count?: unknown } | undefined)?.count ?? 10;
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > 500)
      return void res.status(400).json({ error: 'count: a whole number from 1 to 500' });
    let contacts;
    try {
      contacts = makeCanaries(count, identifiers.get());
    } catch (err) {
      // Every canary number is taken: say so, as the CLI does, rather than fail with a server error.
      if (err instanceof UsageError) return void res.status(409).json({ error: err.message.replace(/^--count: /, '') });
      throw err;
    }
    const parsed = parseIdentifiers(addCanaries(identifiers.get(), contacts));
    if (!parsed.ok) return void res.status(500).json({ error: parsed.error });
    identifiers.set(parsed.value);
    res.type('text/vcard').set('content-disposition', 'attachment; filename="leakscope-canaries.vcf"');
    res.send(vcardFile(contacts));
  });
  const rulesResponse = (): RulesResponse => ({ rules: deps.rules.get().rules, touched: deps.rules.touchedCounts() });
  api.get('/rules', (_req, res) => {
    res.json(rulesResponse());
  });
  api.put('/rules', (req, res) => {
    const parsed = parseRules(req.body);
    if (!parsed.ok) return void res.status(400).json(refusal(parsed.issues));
    deps.rules.set(parsed.value);
    res.json(rulesResponse());
  });
  api.use('/android', androidRouter(deps.android));
  api.get('/udp-dropped', (_req, res) => void res.json(deps.udpDropped?.() ?? []));
  api.get('/tls-errors', (_req, res) => {
    res.json(deps.tlsErrors());
  });
  api.use(sessionsRouter({ store, dataDir: deps.dataDir, version: deps.config.version, hostAllowed: deps.hostAllowed }));
  api.use(sessionErrors);
  api.use(filterErrors);
  api.use((_req, res) => {
    res.status(404).json({ error: 'no such API route' });
  });
  return api;
}
