// Where a request goes, from what the phone said: the host:port of a CONNECT line, an absolute URI's authority,
// a Host header. Each is checked before anything is minted or dialled: a name that could not be a certificate's
// subject or a port out of range is refused at once instead of failing deep in TLS. IPv6 literals come in
// brackets (`[::1]:8443`) and leave them here.
import net from 'node:net';

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?)*\.?$/i;

export interface HostPort {
  host: string;
  port: number;
}

/** `host[:port]` (IPv6 in brackets); the port may be left out only when there is a default. */
export function parseAuthority(authority: string | undefined, defaultPort?: number): HostPort | undefined {
  const m = /^(?:\[([0-9a-f:.]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/i.exec(authority ?? '');
  if (!m) return undefined;
  const host = m[1] ?? m[2];
  const port = m[3] === undefined ? defaultPort : Number(m[3]);
  if (port === undefined || port < 1 || port > 65535) return undefined;
  if (m[1] ? !net.isIPv6(host) : !(net.isIPv4(host) || HOSTNAME.test(host))) return undefined;
  return { host: host.toLowerCase(), port };
}

/** A CONNECT line's target: the port is required. */
export function parseConnectTarget(authority: string | undefined): HostPort | undefined {
  return parseAuthority(authority);
}

/** host[:port] for a URL, the port left out when it is the scheme's default, IPv6 in brackets. */
export function formatAuthority(host: string, port: number, defaultPort: number): string {
  const name = net.isIPv6(host) ? `[${host}]` : host;
  return port === defaultPort ? name : `${name}:${port}`;
}

/**
 * Where a request outside a tunnel is sent: an absolute URI's authority (RFC 9112 §3.2.2: a proxy ignores Host
 * then), else the Host header. Inside a tunnel it is the CONNECT target, whatever Host says (an app that resolves
 * names itself CONNECTs to an address and names the host only in Host and SNI: obeying Host would send it elsewhere).
 */
export function requestDestination(requestTarget: string, hostHeader: string | undefined, defaultPort: number): HostPort | undefined {
  const absolute = /^[a-z][a-z0-9+.-]*:\/\/(?:[^/?#@]*@)?([^/?#]*)/i.exec(requestTarget);
  return parseAuthority(absolute ? absolute[1] : hostHeader, defaultPort);
}
