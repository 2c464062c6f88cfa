// DNS rebinding: a page the tester opens can point its own name at 127.0.0.1 and then talk to the dashboard as
// a same-origin page, so the browser's cross-origin rules no longer protect it. Only the Host header tells such
// a request apart: every request and socket.io handshake must name the dashboard by one of its own names.
// Mutations and downloads must also come from one of those origins (Origin, or Sec-Fetch-Site), whatever the
// binding, so that no other site's page can trigger them in the tester's browser.
import type http from 'node:http';
import os from 'node:os';
import type express from 'express';
import { log } from '../log';
import { isLoopbackHost } from '../util/addresses';

export interface HostPolicy {
  /** the address the dashboard listens on (`--ui-host`) */
  uiHost: string;
  /** names added with `--ui-allowed-host` */
  extra?: string[];
}

export type HostCheck = (hostHeader: string | undefined) => boolean;

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '::1'];
const WILDCARD_BINDS = new Set(['0.0.0.0', '::']);

/** The name part of a Host header or an origin's authority: lower case, no port, no brackets, no final dot. */
export function hostName(authority: string): string | undefined {
  const m = /^(?:\[([0-9a-f:.]+)\]|([^:[\]\s]+))(?::\d{1,5})?$/i.exec(authority.trim());
  const name = (m?.[1] ?? m?.[2])?.toLowerCase().replace(/\.$/, '');
  return name || undefined;
}

/** The machine's own names and addresses: what a browser on the LAN may call the dashboard by. */
function machineNames(): string[] {
  const names = [os.hostname().toLowerCase()];
  for (const info of Object.values(os.networkInterfaces()).flat()) {
    if (info) names.push(info.address.toLowerCase().replace(/%.*$/, ''));
  }
  return names;
}

export function hostCheck(policy: HostPolicy): HostCheck {
  const fixed = new Set([...LOOPBACK_NAMES, ...(policy.extra ?? []).map((h) => hostName(h) ?? h.toLowerCase())]);
  const bind = hostName(policy.uiHost) ?? policy.uiHost;
  if (!WILDCARD_BINDS.has(bind)) fixed.add(bind);
  const beyondLoopback = !isLoopbackHost(bind);
  return (hostHeader) => {
    const name = hostHeader ? hostName(hostHeader) : undefined;
    if (!name) return false;
    if (fixed.has(name)) return true;
    // Interfaces come and go while leakscope runs (Wi-Fi joins, VPNs): read them when asked, not once at start.
    return beyondLoopback && machineNames().includes(name);
  };
}

/** Every HTTP request: a foreign Host gets a 403 in plain text and a log line. */
export function requireOwnHost(allowed: HostCheck): express.RequestHandler {
  return (req, res, next) => {
    if (allowed(req.headers.host)) return next();
    refuseHost(req);
    res.status(403).type('text').send('leakscope: this dashboard answers only to its own host names (DNS rebinding guard); see --ui-allowed-host\n');
  };
}

/** The socket.io handshake, which express does not see: the same Host rule. */
export function allowHandshake(allowed: HostCheck): (req: http.IncomingMessage, done: (err: string | null | undefined, ok: boolean) => void) => void {
  return (req, done) => {
    if (allowed(req.headers.host)) return done(null, true);
    refuseHost(req);
    done('foreign host', false);
  };
}

function refuseHost(req: http.IncomingMessage): void {
  log.warn({ host: String(req.headers.host ?? '').slice(0, 200), path: (req.url ?? '').slice(0, 200), client: req.socket.remoteAddress }, 'dashboard request with a foreign Host refused');
}

/**
 * Whether a request comes from a page of the dashboard's own origin: its Origin names an allowed host with the
 * request's own Host, or, where a browser sends no Origin (same-origin GET navigations such as a download), its
 * Sec-Fetch-Site says `same-origin`. `typedUrl` also accepts Sec-Fetch-Site `none`: the tester typed or
 * bookmarked the URL, which no other site can do.
 */
export function fromOwnOrigin(req: express.Request, allowed: HostCheck, typedUrl = false): boolean {
  const origin = req.get('origin');
  if (origin !== undefined) {
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return false;
    }
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.host === req.get('host') && allowed(url.host);
  }
  const site = req.get('sec-fetch-site');
  return site === 'same-origin' || (typedUrl && site === 'none');
}

/** Downloads (HAR exports and the like): from our own pages, or a URL the tester typed. */
export function requireOwnOriginDownload(allowed: HostCheck): express.RequestHandler {
  return (req, res, next) => {
    if (fromOwnOrigin(req, allowed, true)) return next();
    res.status(403).type('text').send('leakscope: downloads are served to the dashboard\'s own pages only (send Origin or Sec-Fetch-Site: same-origin)\n');
  };
}
