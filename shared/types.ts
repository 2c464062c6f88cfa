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

export type Where = 'url' | 'header' | 'cookie' | 'body' | 'websocket' | 'tcp';
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
  /** the phone: the identifiers-file device whose value it is, or for a planted value the phone that sent it */
  device?: string;
  /** a planted value's origin (`canaries`: a canary contact), where the identifiers-file entry is not a phone */
  source?: string;
  /** `contact`: the contact the value belongs to, as the identifiers file names it (else its first phone or e-mail) */
  contact?: string;
  /** slug of the known tracker whose endpoint received it (Flow.tracker) */
  tracker?: string;
  /** `installed_apps`: how many distinct package names */
  count?: number;
  /** `where: "websocket"`: the index in its flow's `messages` of the message it was found in */
  message?: number;
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

/** How a flow came in (CONTRACT.md "Capture modes", mitmproxy's names). */
export const CAPTURE_MODES = ['regular', 'transparent', 'wireguard'] as const;
export type CaptureMode = (typeof CAPTURE_MODES)[number];

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

/** `http`: an HTTP/1.x request or an HTTP/2 stream; `websocket`: one connection; `tcp`: a tunnel that is not HTTP. */
export type FlowKind = 'http' | 'websocket' | 'tcp';

/** Who ended a raw tunnel: the phone, the server, or leakscope (a rule, a failure, stopping). */
export type ClosedBy = 'client' | 'server' | 'leakscope';

/**
 * Everything leakscope knows of one request/response exchange. A `tcp` flow is a raw tunnel: method `TCP`, url
 * `tcp://host:port` (or `tls://` when leakscope ended TLS on it), the phone's bytes as the request body and the
 * server's as the response body, each capped like bodies.
 */
export interface Flow {
  id: number;
  /** the entrance it came through; absent on flows stored before modes existed (those are `regular`) */
  mode?: CaptureMode;
  /** absent on flows stored before kinds existed: those are `http` */
  kind?: FlowKind;
  /** `tcp` flows: whether leakscope ended TLS on it (the bodies are then the decrypted bytes) */
  tls?: boolean;
  /** `tcp` and `websocket` flows: who closed it; absent while it is open */
  closedBy?: ClosedBy;
  /** `websocket` flows: every message both ways, in order (data capped per flow, WEBSOCKET_DATA_BYTES) */
  messages?: WebSocketMessage[];
  /** `websocket` flows: messages past the flow's cap on how many are listed, counted only */
  messagesOmitted?: number;
  /** the leakscope process that captured it (`start --instance`, default the host name); absent on older flows */
  instance?: string;
  client: string;
  device?: string;
  method: string;
  /** as the app addressed it: the Host header's name, the port actually connected to */
  url: string;
  /** the host actually connected to: the CONNECT target (obeyed), or an absolute URI's host */
  host: string;
  /** the Host header as sent, when it named another host or port than the one connected to (recorded, not obeyed) */
  hostHeader?: string;
  httpVersion: string;
  requestHeaders: Headers;
  requestBody?: Body;
  status?: number;
  statusText?: string;
  responseHeaders?: Headers;
  responseBody?: Body;
  /** trailer fields after the body (HTTP/1.1 chunked, HTTP/2), as received */
  requestTrailers?: Headers;
  responseTrailers?: Headers;
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
  /** id of the capture session the flow belongs to (the one current when it was stored) */
  session?: number;
  /** the tester marked it (PUT /api/flows/:id/mark) */
  marked?: boolean;
  /** the tester's note on it, plain text */
  comment?: string;
}

/** One WebSocket message, in the terms of Chrome DevTools' HAR `_webSocketMessages`. */
export interface WebSocketMessage {
  /** `send`: the phone to the server; `receive`: the server to the phone */
  type: 'send' | 'receive';
  /** epoch ms when leakscope had it whole */
  time: number;
  /** 1 text, 2 binary */
  opcode: 1 | 2;
  /** text as UTF-8; binary as base64 */
  data: string;
  /** payload bytes on the wire */
  size: number;
  /** the flow's data cap was reached: `data` holds only the first part of the message, or none of it */
  truncated?: boolean;
  /** a rule's doing: `blocked` never reached the server; `redacted` went on as `sentData` */
  action?: FlowAction;
  sentData?: string;
}

/** What the live feed needs of a flow; what socket.io event `flow` carries. */
export interface FlowSummary {
  id: number;
  kind?: FlowKind;
  /** the entrance it came through; absent: regular */
  mode?: CaptureMode;
  /** the leakscope process that captured it */
  instance?: string;
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
  session?: number;
  marked?: boolean;
  comment?: string;
}

/**
 * Why a phone's TLS with leakscope failed, told apart because each asks something else of the tester:
 * - `untrusted`: the client rejected our certificate with an alert (unknown_ca, bad_certificate,
 *   certificate_unknown): the CA is not installed, or the app ignores user CAs;
 * - `incompatible`: no TLS version, cipher or application protocol in common: leakscope's limit, not the app's;
 * - `closed-after-handshake`: the handshake completed and the client closed within seconds without sending a
 *   request, what a pinning check run after the handshake looks like ("likely certificate pinning");
 * - `other`: the connection broke during the handshake for another reason (reset, timeout).
 */
export type TlsFailureKind = 'untrusted' | 'incompatible' | 'closed-after-handshake' | 'other';

/**
 * socket.io event `tls-error` and GET /api/tls-errors: a client whose TLS with leakscope failed, one entry per
 * client, host and kind, counted; each new failure publishes the entry again with its count and times.
 */
export interface TlsErrorEvent {
  /** when last seen (the same as `lastSeen`) */
  time: number;
  client: string;
  host: string;
  kind: TlsFailureKind;
  /** OpenSSL's reason, or what leakscope saw */
  message: string;
  count: number;
  firstSeen: number;
  lastSeen: number;
}

/**
 * socket.io event `udp-dropped` (and GET /api/udp-dropped): UDP from the WireGuard tunnel that leakscope does not
 * pass on. One event per client and destination while it keeps sending, with what was dropped until then.
 */
export interface UdpDroppedEvent {
  time: number;
  client: string;
  /** the address and port the phone sent to */
  ip: string;
  port: number;
  /** the name the phone looked up for that address through leakscope's DNS, if it did */
  host?: string;
  packets: number;
  bytes: number;
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
  /** how the values were written (`plain`, `md5`, `sha1+hex`, `gzip+base64`…), each once, sorted */
  encodings: string[];
  /** asked with a time range (where count, firstSeen and lastSeen are the range's): when it was first seen at all */
  firstEver?: number;
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
    ...(flow.kind ? { kind: flow.kind } : {}),
    ...(flow.mode && flow.mode !== 'regular' ? { mode: flow.mode } : {}),
    ...(flow.instance ? { instance: flow.instance } : {}),
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
    session: flow.session,
    ...(flow.marked ? { marked: true } : {}),
    ...(flow.comment ? { comment: flow.comment } : {}),
  };
}
