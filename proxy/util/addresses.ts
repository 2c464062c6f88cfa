// What kind of address a host or client is: the guards on both sides (dashboard, proxy targets) ask the same.
import net from 'node:net';

/** A name or literal that always means this machine. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/**
 * Where a phone can reach a listener bound to `host`: every LAN address for a wildcard bind, the address itself
 * for a specific one, and nothing for loopback (a phone is another machine; showing it a LAN address the proxy
 * does not listen on sends it nowhere).
 */
export function reachableAddresses(host: string | undefined, lan: string[]): string[] {
  if (host === undefined || host === '0.0.0.0' || host === '::' || host === '') return lan;
  return isLoopbackHost(host) ? [] : [host];
}

/**
 * Addresses that reach the machine leakscope runs on, or its cloud host, rather than anywhere on the network:
 * loopback, link-local (169.254/16 holds the cloud metadata service) and the unspecified address, which connects
 * to loopback.
 */
const LOCAL_TARGETS = (() => {
  const list = new net.BlockList();
  list.addSubnet('127.0.0.0', 8, 'ipv4');
  list.addSubnet('169.254.0.0', 16, 'ipv4');
  list.addSubnet('0.0.0.0', 8, 'ipv4');
  list.addAddress('::1', 'ipv6');
  list.addAddress('::', 'ipv6');
  list.addSubnet('fe80::', 10, 'ipv6');
  // AWS's IPv6 metadata endpoint
  list.addAddress('fd00:ec2::254', 'ipv6');
  return list;
})();

/** An IP literal that reaches this machine itself (see LOCAL_TARGETS); IPv4-mapped IPv6 is read as IPv4. */
export function isLocalTarget(ip: string): boolean {
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1];
  if (v4 || net.isIPv4(ip)) return LOCAL_TARGETS.check(v4 ?? ip, 'ipv4');
  return net.isIPv6(ip) && LOCAL_TARGETS.check(ip, 'ipv6');
}
