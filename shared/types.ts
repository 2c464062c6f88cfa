// Types that cross the wire: proxy → store → server → dashboard all speak these.
// The shapes follow ../shared/CONTRACT.md; change them only with a compatible alias.

export const IDENTIFIER_TYPES = [
  'imei',
  'meid',
  'imsi',
  'iccid',
  'phone_number',
  'android_id',
  'advertising_id',
  'mac_address',
  'serial_number',
  'email',
  'contact',
  'sms',
  'location',
  /** a Wi-Fi network's BSSID (access point MAC) or SSID: they stand in for location */
  'wifi',
  /** a list of package names of the apps installed on the phone */
  'installed_apps',
] as const;
export type IdentifierType = (typeof IDENTIFIER_TYPES)[number];

export type Where = 'url' | 'header' | 'cookie' | 'body' | 'websocket';
/** `tracker`: a field that a known tracker's format (trackhar's adapters) names as this identifier. */
export type Confidence = 'known' | 'pattern' | 'tracker';

/** A known tracker or SDK whose endpoint a flow went to (trackhar's tracker slug and legal name). */
export interface Tracker {
  slug: string;
  name: string;
}

/** One identifier occurrence in one request. */
export interface Finding {
  type: IdentifierType;
  /** The identifier as the tester knows it (for pattern findings: as found, decoded). */
  value: string;
  where: Where;
  /** Query key, header name, cookie name, or JSON/form path. */
  path: string;
  /** Encodings undone to reach the value, outermost last, joined by `+` (e.g. `sha1+hex`). */
  encoding: string;
  confidence: Confidence;
  device?: string;
  /** slug of the known tracker whose endpoint received it (Flow.tracker) */
  tracker?: string;
  /** `installed_apps`: how many distinct package names */
  count?: number;
}

export type Headers = Record<string, string | string[]>;

export interface Destination {
  ip?: string;
  country?: string;
  org?: string;
  /** registrable domain (eTLD+1) of the host */
  domain?: string;
  /** 'private' | 'loopback' when the address is not public */
  scope?: 'public' | 'private' | 'loopback';
}

export type FlowAction = 'blocked' | 'redacted';

/** A stored body: text as UTF-8, binary as base64. Capped; `truncated` says when. */
export interface Body {
  text: string;
  encoding?: 'base64';
  /** Size on the wire in bytes (before decoding content-encoding). */
  size: number;
  truncated?: boolean;
  /** Content-Encoding that was undone before storing (gzip, deflate, br). */
  decoded?: string;
}

export interface Timings {
  /** epoch ms when the request arrived */
  start: number;
  /** ms until response headers */
  wait?: number;
  /** ms until the response ended */
  total?: number;
}

/** Everything leakscope knows of one request/response exchange. */
export interface Flow {
  id: number;
  client: string;
  device?: string;
  method: string;
  url: string;
  host: string;
  httpVersion: string;
  requestHeaders: Headers;
  requestBody?: Body;
  status?: number;
  statusText?: string;
  responseHeaders?: Headers;
  responseBody?: Body;
  timings: Timings;
  error?: string;
  findings: Finding[];
  /** flow-level labels, e.g. `contact-list`, `foreign` */
  tags: string[];
  destination?: Destination;
  action?: FlowAction;
  /** when redacted: what actually left for the upstream */
  sentBody?: Body;
  sentUrl?: string;
  /** the known tracker or SDK whose endpoint this went to */
  tracker?: Tracker;
}

/** What the live feed needs of a flow; what socket.io event `flow` carries. */
export interface FlowSummary {
  id: number;
  client: string;
  device?: string;
  method: string;
  url: string;
  host: string;
  status?: number;
  size: number;
  start: number;
  error?: string;
  findings: Finding[];
  tags: string[];
  destination?: Destination;
  action?: FlowAction;
  tracker?: Tracker;
}

/** socket.io event `tls-error`: a client refused our certificate (pinning, or CA not installed). */
export interface TlsErrorEvent {
  time: number;
  client: string;
  host: string;
  message: string;
}

/** One row of GET /api/summary: identifier type × destination host. */
export interface SummaryRow {
  host: string;
  domain: string;
  country?: string;
  org?: string;
  type: IdentifierType;
  device?: string;
  count: number;
  firstSeen: number;
  lastSeen: number;
  /** slug and name of the known tracker the host's flows went to */
  tracker?: string;
  trackerName?: string;
}

/** socket.io: the client sends this on connect to get what it missed. */
export interface ResumeRequest {
  after: number;
}

export function summarize(flow: Flow): FlowSummary {
  return {
    id: flow.id,
    client: flow.client,
    device: flow.device,
    method: flow.method,
    url: flow.url,
    host: flow.host,
    status: flow.status,
    size: flow.responseBody?.size ?? 0,
    start: flow.timings.start,
    error: flow.error,
    findings: flow.findings,
    tags: flow.tags,
    destination: flow.destination,
    action: flow.action,
    ...(flow.tracker ? { tracker: flow.tracker } : {}),
  };
}
