// The host:port of a CONNECT line, checked before anything is minted or dialled: a name that could not be a
// certificate's subject or a port out of range is answered 400 at once instead of failing deep in TLS.
import net from 'node:net';

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?)*\.?$/i;

export function parseConnectTarget(authority: string | undefined): { host: string; port: number } | undefined {
  const m = /^(?:\[([0-9a-f:.]+)\]|([^:[\]]+)):(\d{1,5})$/i.exec(authority ?? '');
  if (!m) return undefined;
  const host = m[1] ?? m[2];
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  if (m[1] ? !net.isIPv6(host) : !(net.isIPv4(host) || HOSTNAME.test(host))) return undefined;
  return { host, port };
}
