// The original destination of a redirected connection (an nftables/iptables REDIRECT or DNAT), read from the
// kernel's connection tracking table in /proc/net/nf_conntrack.
//
// Why this file and not the Debian `conntrack` tool: it is one read of a file the kernel keeps per network
// namespace (the reader's own), with no process to start per connection (the tool costs a fork and exec, some
// milliseconds, on every accepted socket) and nothing to install. Node has no getsockopt(SO_ORIGINAL_DST).
// The file needs root (it is 0440 root) and exists once the nf_conntrack module is loaded, which any NAT rule
// does.
import fs from 'node:fs/promises';
import net from 'node:net';

export const CONNTRACK_FILE = '/proc/net/nf_conntrack';

export interface Endpoint {
  address: string;
  port: number;
}

/** The four ends of a connection as the listening socket sees them. */
export interface SocketEnds {
  protocol: 'tcp' | 'udp';
  /** the peer (the phone) */
  remote: Endpoint;
  /** our end: the listener's address and port */
  local: Endpoint;
}

/** An IP address in one spelling: IPv4 as is (also from `::ffff:a.b.c.d`), IPv6 as eight 4-digit groups. */
export function canonicalIp(address: string): string {
  const a = address.toLowerCase().replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
  if (net.isIPv4(a)) return a;
  if (!net.isIPv6(a)) return a;
  const [head, tail] = a.split('::');
  const groups = (s: string | undefined) => (s ? s.split(':') : []);
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const missing = 8 - left.length - right.length;
  return [...left, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...right].map((g) => g.padStart(4, '0')).join(':');
}

interface Tuple {
  src: string;
  dst: string;
  sport: number;
  dport: number;
}

/** The original and reply tuples of one conntrack line, if it is of `protocol`. */
export function parseConntrackLine(line: string, protocol: 'tcp' | 'udp'): { original: Tuple; reply: Tuple } | undefined {
  const fields = line.trim().split(/\s+/);
  // "ipv4 2 tcp 6 ..." : family, family number, protocol name, protocol number
  if (fields[2] !== protocol) return undefined;
  const tuples: Partial<Tuple>[] = [];
  for (const field of fields) {
    const eq = field.indexOf('=');
    if (eq < 0) continue;
    const key = field.slice(0, eq);
    const value = field.slice(eq + 1);
    if (key === 'src') tuples.push({ src: value });
    const current = tuples[tuples.length - 1];
    if (!current) continue;
    if (key === 'dst') current.dst = value;
    else if (key === 'sport') current.sport = Number(value);
    else if (key === 'dport') current.dport = Number(value);
  }
  const [original, reply] = tuples;
  if (!isTuple(original) || !isTuple(reply)) return undefined;
  return { original, reply };
}

function isTuple(t: Partial<Tuple> | undefined): t is Tuple {
  return !!t && t.src !== undefined && t.dst !== undefined && Number.isInteger(t.sport) && Number.isInteger(t.dport);
}

/**
 * Finds, in the text of the conntrack table, the connection whose reply tuple runs from our end to the peer,
 * and returns where the peer originally sent it. A connection nobody redirected is found too: its original
 * destination is then our own end.
 */
export function findOriginalDestination(table: string, ends: SocketEnds): Endpoint | undefined {
  const remote = canonicalIp(ends.remote.address);
  const local = canonicalIp(ends.local.address);
  const remotePort = ` dport=${ends.remote.port} `;
  for (const line of table.split('\n')) {
    // Cheap test first: most lines are other connections.
    if (!line.includes(remotePort)) continue;
    const parsed = parseConntrackLine(line, ends.protocol);
    if (!parsed) continue;
    const { original, reply } = parsed;
    if (reply.dport !== ends.remote.port || reply.sport !== ends.local.port) continue;
    if (canonicalIp(reply.dst) !== remote || canonicalIp(reply.src) !== local) continue;
    return { address: unpadIp(original.dst), port: original.dport };
  }
  return undefined;
}

/** conntrack writes IPv6 with every zero; the rest of leakscope (and the dashboard) use the short form. */
function unpadIp(address: string): string {
  if (net.isIPv4(address)) return address;
  const words = address.split(':').map((g) => g.replace(/^0+(?=.)/, ''));
  return new URL(`http://[${words.join(':')}]/`).hostname.slice(1, -1);
}

/** The original destination of a connection accepted on a listener that redirected traffic lands on. */
export async function originalDestination(ends: SocketEnds): Promise<Endpoint | undefined> {
  return findOriginalDestination(await fs.readFile(CONNTRACK_FILE, 'latin1'), ends);
}
