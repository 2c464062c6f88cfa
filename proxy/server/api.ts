// The dashboard's JSON API (shapes in shared/api.ts). Read-only routes answer from a FlowReader: the instance's own
// store, or a lab's shared one on a dashboard node. The few mutations go through requireSameOriginJson, downloads
// through requireOwnOriginDownload. Identifiers and rules are edited wherever there are holders of them (an
// instance's, or a dashboard node's over the shared store); device names, marks, sessions and Android setup are an
// instance's own, and a dashboard node answers them 501.
import express from 'express';
import type { DeviceInfo, RulesResponse, ServerConfig, StatsResponse, StoreStatus, StoreStatusResponse, SummaryResponse, ValidationError } from '../../shared/api';
import { FilterError, parseFilter } from '../../shared/filter';
import { parseIdentifiers } from '../../shared/identifiers';
import type { Issue } from '../../shared/issues';
import { parseRules } from '../../shared/rules';
import type { TlsErrorEvent, UdpDroppedEvent } from '../../shared/types';
import { addCanaries, makeCanaries, vcardFile } from '../cli/canaries';
import { UsageError } from '../cli/errors';
import type { IdentifiersHolder } from '../config/identifiers-holder';
import { HarWriter } from '../har/export';
import { exportHarName, flowHarName } from '../../shared/har-name';
import type { RulesHolder } from '../rules/rules-holder';
import { FilterUnsupported } from '../filter/sql';
import type { FlowReader } from '../store/flow-reader';
import type { FlowQuery, FlowStore } from '../store/flow-store';
import { androidRouter, type AndroidSessions } from './android-api';
import { requireSameOriginJson } from './auth';
import { requireOwnOriginDownload, type HostCheck } from './host-check';
import { eventLoopDelay } from './loop-delay';
import { sessionErrors, sessionsRouter } from './sessions-api';

export interface ApiDeps {
  reader: FlowReader;
  config: ServerConfig;
  /** the dashboard's own host names (DNS rebinding guard) */
  hostAllowed: HostCheck;
  /** a lab's shared store as this process sees it; undefined without one */
  storeStatus?: () => StoreStatus | undefined;
  /** the identifiers and rules in force (in a lab, the shared store's: config/shared-settings.ts) */
  settings: SettingsDeps;
  /** a proxy instance's own parts; absent on a dashboard node */
  local?: LocalApiDeps;
}

export interface SettingsDeps {
  identifiers: IdentifiersHolder;
  rules: RulesHolder;
}

export interface LocalApiDeps {
  store: FlowStore;
  tlsErrors: () => TlsErrorEvent[];
  /** UDP from the WireGuard tunnel that was not passed on, newest first (empty without WireGuard mode) */
  udpDropped?: () => UdpDroppedEvent[];
  /** where report bundles are written (DATA_DIR/reports) and the CA is read from */
  dataDir: string;
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
  if (err instanceof FilterUnsupported) return void res.status(400).json({ error: `this store cannot answer ${err.message}` });
  if (err instanceof FilterError) return void res.status(400).json({ error: err.message, position: err.position });
  if (err instanceof QueryError) return void res.status(400).json({ error: err.message });
  next(err);
};

/** The `session` query parameter (a name or an id) as an id; an unknown one throws, answered 404. */
async function sessionParam(reader: FlowReader, value: unknown): Promise<number | undefined> {
  return typeof value === 'string' && value !== '' ? (await reader.session(value)).id : undefined;
}

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
    instance: str(q.instance),
    q: str(q.q),
    ids,
    filter: filterParam(q.filter),
    from: timeParam(q.from, 'from'),
    to: timeParam(q.to, 'to'),
  };
}

/** What a dashboard node answers for what only an instance keeps. */
const NOT_ON_A_DASHBOARD_NODE =
  'a dashboard node (leakscope dashboard) edits the shared identifiers and rules only: device names, marks, sessions, diffs, reports and Android setup belong to each instance\'s own dashboard';

/** Routes of an instance's own, answered 501 on a dashboard node (the GETs of /devices and /sessions read). */
const LOCAL_ROUTES = ['/flows/:id/mark', '/devices/:client', '/android', '/sessions', '/markers', '/diff', '/reports'];

export function apiRouter(deps: ApiDeps): express.Router {
  const { reader, local } = deps;
  const api = express.Router();
  api.use(express.json({ limit: '1mb' }));
  api.use(requireSameOriginJson(deps.hostAllowed));

  api.get('/health', (_req, res) => {
    res.json({ ok: true });
  });
  api.get('/stats', async (_req, res) => {
    const stats: StatsResponse = { flows: await reader.count(), eventLoopDelay: eventLoopDelay() };
    res.json(stats);
  });
  api.get('/config', (_req, res) => {
    res.json(deps.config);
  });
  api.get('/store-status', (_req, res) => {
    const body: StoreStatusResponse = { shared: deps.storeStatus?.() };
    res.json(body);
  });
  // `session` (a name or id) narrows the flows, the summary, the devices and the export to one capture session.
  const scoped = async (q: Record<string, unknown>): Promise<FlowQuery> => ({ ...flowQuery(q), session: await sessionParam(reader, q.session) });
  const scope = async (q: Record<string, unknown>) => {
    const { from, to } = flowQuery(q);
    return { session: await sessionParam(reader, q.session), instance: str(q.instance), from, to };
  };
  api.get('/flows', async (req, res) => {
    res.json(await reader.summaries(await scoped(req.query)));
  });
  api.get('/timeline', async (req, res) => {
    if (!reader.timeline) return void res.status(501).json({ error: 'the timeline is counted by each instance\'s own store; a dashboard node has none' });
    res.json(await reader.timeline(await scoped(req.query)));
  });
  api.get('/flows/:id', async (req, res) => {
    const id = int(req.params.id);
    const flow = id === undefined ? undefined : await reader.get(id);
    if (!flow) return void res.status(404).json({ error: `no flow ${req.params.id}` });
    res.json(flow);
  });
  api.get('/summary', async (req, res) => {
    const body: SummaryResponse = { rows: await reader.summary(await scope(req.query)) };
    res.json(body);
  });
  api.get('/export.har', requireOwnOriginDownload(deps.hostAllowed), async (req, res) => {
    const query = await scoped(req.query);
    const one = query.ids?.length === 1 ? await reader.get(query.ids[0]) : undefined;
    res.type('application/json').set('content-disposition', `attachment; filename="${one ? flowHarName(one) : exportHarName()}"`);
    const har = new HarWriter((chunk: string) => res.write(chunk));
    for await (const flow of reader.flows({ ...query, limit: undefined })) har.add(flow);
    har.end();
    res.end();
  });
  api.get('/devices', async (req, res) => {
    const named = deps.settings.identifiers.get();
    const devices: DeviceInfo[] = (await reader.devices(await scope(req.query))).map((d) => ({
      ...d,
      name: d.name ?? named.devices.find((x) => x.client === d.client)?.name ?? undefined,
    }));
    res.json(devices);
  });
  api.get('/instances', async (_req, res) => {
    res.json(await reader.instances());
  });
  api.get('/sessions', async (_req, res) => {
    res.json(await reader.sessions());
  });
  api.get('/udp-dropped', (_req, res) => void res.json(local?.udpDropped?.() ?? []));
  api.get('/tls-errors', (_req, res) => void res.json(local?.tlsErrors() ?? []));
  api.use(settingsRoutes(deps.settings));
  if (local) api.use(localRoutes(local, deps));
  else api.use(LOCAL_ROUTES, (_req, res) => void res.status(501).json({ error: NOT_ON_A_DASHBOARD_NODE }));
  api.use(sessionErrors);
  api.use(filterErrors);
  api.use((_req, res) => {
    res.status(404).json({ error: 'no such API route' });
  });
  return api;
}

/** What only a proxy instance has: its marks, device names, sessions, reports and phones. */
function localRoutes(local: LocalApiDeps, deps: ApiDeps): express.Router {
  const { store } = local;
  const api = express.Router();
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
  api.put('/devices/:client', (req, res) => {
    const name = (req.body as { name?: unknown })?.name;
    if (typeof name !== 'string' || name.trim() === '' || name.length > 100) {
      return void res.status(400).json({ error: 'name: a non-empty string of at most 100 characters' });
    }
    store.renameDevice(req.params.client, name.trim());
    res.json({ ok: true });
  });
  api.use('/android', androidRouter(local.android));
  api.use(sessionsRouter({ store, dataDir: local.dataDir, version: deps.config.version, hostAllowed: deps.hostAllowed }));
  return api;
}

/** The identifiers and rules in force, read and replaced (validated; detection and rules follow at once). */
function settingsRoutes({ identifiers, rules }: SettingsDeps): express.Router {
  const api = express.Router();
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
  const rulesResponse = (): RulesResponse => ({ rules: rules.get().rules, touched: rules.touchedCounts() });
  api.get('/rules', (_req, res) => {
    res.json(rulesResponse());
  });
  api.put('/rules', (req, res) => {
    const parsed = parseRules(req.body);
    if (!parsed.ok) return void res.status(400).json(refusal(parsed.issues));
    rules.set(parsed.value);
    res.json(rulesResponse());
  });
  return api;
}
