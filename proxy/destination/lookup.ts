// Where a flow went: the address we actually connected to, its country (geoip-country's offline data: the
// country database alone, 19 MB in memory where geoip-lite's city database held 150 MB), the registrable
// domain of the host (tldts, public suffix list) and the organisation behind that domain.
import net from 'node:net';
import geoip from 'geoip-country';
import { getDomain } from 'tldts';
import type { Destination } from '../../shared/types';
import { organisationOf } from './organisations';

export function addressScope(ip: string): Destination['scope'] {
  const v4 = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  if (net.isIPv4(v4)) {
    const [a, b] = v4.split('.').map(Number);
    if (a === 127) return 'loopback';
    if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254) || (a === 100 && b >= 64 && b <= 127)) {
      return 'private';
    }
    return 'public';
  }
  const lower = v4.toLowerCase();
  if (lower === '::1') return 'loopback';
  if (/^f[cd]/.test(lower) || lower.startsWith('fe80')) return 'private';
  return 'public';
}

export function registrableDomain(host: string): string {
  return getDomain(host, { allowPrivateDomains: false }) ?? host;
}

export function lookupDestination(host: string, ip: string | undefined): Destination {
  const domain = registrableDomain(host);
  const org = organisationOf(domain);
  const destination: Destination = { domain, ...(org ? { org } : {}) };
  if (!ip) return destination;
  const address = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  destination.ip = address;
  destination.scope = addressScope(address);
  if (destination.scope === 'public') {
    const country = geoip.lookup(address)?.country;
    if (country) destination.country = country;
  }
  return destination;
}
