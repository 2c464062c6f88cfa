// Who may use the proxy: loopback and private ranges by default, plus the tester's --allow CIDRs.
import net from 'node:net';
import { UsageError } from '../cli/errors';

const DEFAULT_RANGES = ['127.0.0.0/8', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16', '100.64.0.0/10'];
const DEFAULT_RANGES_V6 = ['::1/128', 'fc00::/7', 'fe80::/10'];

export function clientAllowlist(extra: string[] = []): (address: string) => boolean {
  const list = new net.BlockList();
  for (const cidr of DEFAULT_RANGES) addCidr(list, cidr);
  for (const cidr of DEFAULT_RANGES_V6) addCidr(list, cidr);
  for (const cidr of extra) addCidr(list, cidr);
  return (address) => {
    const type = net.isIPv4(address) ? 'ipv4' : net.isIPv6(address) ? 'ipv6' : undefined;
    return type !== undefined && list.check(address, type);
  };
}

function addCidr(list: net.BlockList, cidr: string): void {
  const [address, bits] = cidr.split('/');
  const type = net.isIPv4(address) ? 'ipv4' : net.isIPv6(address) ? 'ipv6' : undefined;
  const prefix = Number(bits ?? (type === 'ipv4' ? 32 : 128));
  const max = type === 'ipv4' ? 32 : 128;
  if (!type || !Number.isInteger(prefix) || prefix < 0 || prefix > max) {
    throw new UsageError(`--allow ${cidr}: expected an address range like 203.0.113.0/24`);
  }
  list.addSubnet(address, prefix, type);
}
