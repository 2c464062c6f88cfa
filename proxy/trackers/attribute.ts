// Tracker attribution: which known tracker or SDK a request went to, and the identifier fields its format
// names, from trackhar (tweaselORG/TrackHAR, CC0): one adapter per tracker endpoint, with the decoding steps
// and the meaning of each field as reviewed data. Run after the request is forwarded, never before: it
// decides nothing about what the phone's request does, it only labels what was recorded.
import { isUtf8 } from 'node:buffer';
import type { Finding, Headers, Tracker, Where } from '../../shared/types';
import { plausibleImei } from '../detect/patterns/validators';
import { decodeContentEncoding } from '../util/content-encoding';

type TrackHar = typeof import('trackhar');
type Adapter = TrackHar['adapters'][number];
type TrackHarRequest = Parameters<TrackHar['processRequest']>[0];

export interface AttributionInput {
  method: string;
  url: string;
  headers: Headers;
  /** the body as sent (Content-Encoding still applied) */
  body?: Buffer;
  start: number;
}

export interface Attribution {
  tracker: Tracker;
  /** `confidence: 'tracker'` findings: fields the adapter names that the detector's findings do not hold */
  findings: Finding[];
}

export interface TrackerAttributor {
  /** The tracker whose adapter matches the request, or undefined (at once, for a host no adapter knows). */
  attribute(input: AttributionInput, found: readonly Finding[]): Promise<Attribution | undefined>;
}

/** What trackhar is given of a body: its adapters parse JSON and query strings, and gunzip or read protobuf. */
const BODY_BYTES = 1 << 20;

interface Endpoints {
  hosts: Set<string>;
  patterns: RegExp[];
}

/** Which hosts any adapter can match: exact endpoint URLs give their host; patterns are tried whole. */
function endpointsOf(adapters: readonly Adapter[]): Endpoints {
  const hosts = new Set<string>();
  const patterns: RegExp[] = [];
  for (const adapter of adapters) {
    for (const endpoint of adapter.endpointUrls) {
      if (typeof endpoint === 'string') hosts.add(new URL(endpoint).hostname);
      else patterns.push(endpoint);
    }
  }
  return { hosts, patterns };
}

const WHERE: Record<string, Where> = { query: 'url', path: 'url', header: 'header', cookie: 'cookie', body: 'body' };
const STEP_ENCODING: Record<string, string> = { decodeBase64: 'base64', decodeUrl: 'urlencoded', gunzip: 'gzip', decodeProtobuf: 'protobuf', decodeJwt: 'jwt' };

/** The encodings the adapter undoes on its way into `context`, outermost last (as a finding writes them). */
function encodingOf(adapter: Adapter, context: string): string {
  const chain: string[] = [];
  for (const step of adapter.decodingSteps) {
    const input = 'input' in step ? step.input : step.mapInput;
    const encoding = STEP_ENCODING[step.function];
    if (encoding && (input.startsWith(context) || step.output.startsWith(`res.${context}`))) chain.unshift(encoding);
  }
  return chain.length === 0 ? 'plain' : chain.join('+');
}

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const MAC = /^[0-9a-fA-F]{2}(?:[:-][0-9a-fA-F]{2}){5}$/;
const ANDROID_ID = /^[0-9a-f]{15,16}$/;

/**
 * trackhar's property names, as leakscope's types, where the value has that type's shape: its `deviceId`
 * and `developerScopedId` cover several kinds of ID, of which only some are an IMEI or an Android ID.
 */
function typed(property: string, raw: unknown): Pick<Finding, 'type' | 'value'> | undefined {
  const value = typeof raw === 'string' ? raw.trim() : typeof raw === 'number' || typeof raw === 'bigint' ? String(raw) : undefined;
  if (!value) return undefined;
  if (property === 'advertisingId') return UUID.test(value) ? { type: 'advertising_id', value: value.toLowerCase() } : undefined;
  if (property === 'macAddress') return MAC.test(value) ? { type: 'mac_address', value: value.toLowerCase().replace(/-/g, ':') } : undefined;
  if (property === 'deviceId' || property === 'developerScopedId') {
    if (plausibleImei(value)) return { type: 'imei', value };
    if (ANDROID_ID.test(value) && /[a-f]/.test(value) && /\d/.test(value)) return { type: 'android_id', value };
  }
  return undefined;
}

interface Result {
  property: string;
  value: unknown;
  context: string;
  path: string;
}

/** The adapter's results as findings, latitude and longitude joined into one location. */
function findingsOf(adapter: Adapter, results: readonly Result[], slug: string): Finding[] {
  const out: Finding[] = [];
  for (const r of results) {
    const t = typed(r.property, r.value);
    if (t) out.push({ ...t, where: WHERE[r.context] ?? 'body', path: r.path, encoding: encodingOf(adapter, r.context), confidence: 'tracker', tracker: slug });
  }
  const lat = results.find((r) => r.property === 'latitude');
  const lon = results.find((r) => r.property === 'longitude' && r.context === lat?.context);
  const [la, lo] = [Number(lat?.value), Number(lon?.value)];
  if (lat && lon && Number.isFinite(la) && Number.isFinite(lo) && Math.abs(la) <= 90 && Math.abs(lo) <= 180 && (la !== 0 || lo !== 0)) {
    out.push({ type: 'location', value: `${la},${lo}`, where: WHERE[lat.context] ?? 'body', path: lat.path, encoding: encodingOf(adapter, lat.context), confidence: 'tracker', tracker: slug });
  }
  return out;
}

/** Already reported by known values or patterns: the same type and value (any location at all counts). */
function missed(found: readonly Finding[]): (f: Finding) => boolean {
  const seen = new Set(found.map((f) => `${f.type}\u0000${f.value.toLowerCase()}`));
  const located = found.some((f) => f.type === 'location');
  return (f) => !(f.type === 'location' ? located : seen.has(`${f.type}\u0000${f.value.toLowerCase()}`));
}

function headerList(headers: Headers): { name: string; value: string }[] {
  return Object.entries(headers).flatMap(([name, v]) => (Array.isArray(v) ? v : [v]).map((value) => ({ name, value })));
}

function cookiesOf(headers: Headers): { name: string; value: string }[] {
  const cookie = headers.cookie ?? headers.Cookie;
  return (Array.isArray(cookie) ? cookie : cookie ? [cookie] : []).flatMap((c) =>
    c.split(/;\s*/).flatMap((crumb) => {
      const eq = crumb.indexOf('=');
      return eq > 0 ? [{ name: crumb.slice(0, eq).trim(), value: crumb.slice(eq + 1) }] : [];
    }),
  );
}

async function requestOf(input: AttributionInput, url: URL): Promise<TrackHarRequest> {
  let content: string | undefined;
  if (input.body && input.body.length > 0) {
    const decoded = await decodeContentEncoding(input.body.subarray(0, BODY_BYTES), input.headers['content-encoding'] ?? input.headers['Content-Encoding'], BODY_BYTES);
    // trackhar reads binary bodies (gzip, protobuf) from a byte string, as HAR tools hand them over
    content = decoded.data.toString(isUtf8(decoded.data) ? 'utf8' : 'latin1');
  }
  return {
    startTime: new Date(input.start),
    method: input.method,
    host: url.hostname,
    path: url.pathname + url.search,
    endpointUrl: `${url.protocol}//${url.host}${url.pathname}`,
    content,
    port: url.port,
    scheme: url.protocol === 'http:' ? 'http' : 'https',
    httpVersion: 'HTTP/1.1',
    headers: headerList(input.headers),
    cookies: cookiesOf(input.headers),
  };
}

/**
 * Loads trackhar (about half a second, once) and answers for the hosts its adapters know. `warm` starts the
 * load at once, so the first flows do not wait for it.
 */
export function createTrackerAttributor(): TrackerAttributor & { warm(): void } {
  let loading: Promise<{ th: TrackHar; endpoints: Endpoints }> | undefined;
  const load = () => (loading ??= import('trackhar').then((th) => ({ th, endpoints: endpointsOf(th.adapters) })));
  return {
    warm: () => void load(),
    async attribute(input, found) {
      let url: URL;
      try {
        url = new URL(input.url);
      } catch {
        return undefined;
      }
      const { th, endpoints } = await load();
      const endpoint = `${url.protocol}//${url.host}${url.pathname}`;
      if (!endpoints.hosts.has(url.hostname) && !endpoints.patterns.some((p) => p.test(endpoint))) return undefined;
      const request = await requestOf(input, url);
      const adapter = th.adapterForRequest(request);
      if (!adapter) return undefined;
      const slug = adapter.tracker.slug;
      const results = (th.processRequest(request) ?? []) as Result[];
      return { tracker: { slug, name: adapter.tracker.name }, findings: findingsOf(adapter, results, slug).filter(missed(found)) };
    },
  };
}

/**
 * Attribution of a request just judged, started once the verdict is on its way (the forwarder writes the
 * request upstream first) and done while the upstream answers. Never rejects: a flow without a tracker
 * is still a flow.
 */
export function attributeLater(attributor: TrackerAttributor, request: AttributionInput, found: readonly Finding[]): Promise<Attribution | undefined> {
  return new Promise((resolve) => {
    setImmediate(() => attributor.attribute(request, found).then(resolve, () => resolve(undefined)));
  });
}

/** The flow's findings with the tracker named on each, and the tracker's own after them. */
export function attributed(findings: readonly Finding[], attribution: Attribution | undefined): Finding[] {
  if (!attribution) return [...findings];
  return [...findings.map((f) => ({ ...f, tracker: attribution.tracker.slug })), ...attribution.findings];
}
