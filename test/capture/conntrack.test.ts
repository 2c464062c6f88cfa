// Reading a redirected connection's original destination from conntrack's table, as the kernel writes it.
import { describe, expect, it } from 'vitest';
import { canonicalIp, findOriginalDestination } from '../../proxy/capture/conntrack';

const TABLE = [
  'ipv4     2 udp      17 30 src=10.200.1.2 dst=10.200.1.1 sport=54534 dport=51999 src=10.200.1.1 dst=10.200.1.2 sport=51999 dport=54534 mark=0 zone=0 use=2',
  'ipv4     2 tcp      6 120 ESTABLISHED src=10.73.0.2 dst=93.184.216.34 sport=45786 dport=5222 src=10.73.0.1 dst=10.73.0.2 sport=8082 dport=45786 [ASSURED] mark=0 zone=0 use=2',
  'ipv4     2 tcp      6 60 SYN_RECV src=10.73.0.3 dst=93.184.216.35 sport=45786 dport=443 src=10.73.0.1 dst=10.73.0.3 sport=8082 dport=45786 mark=0 zone=0 use=2',
  'ipv4     2 udp      17 29 src=10.73.0.2 dst=1.2.3.4 sport=5000 dport=9999 [UNREPLIED] src=10.73.0.1 dst=10.73.0.2 sport=40000 dport=5000 mark=0 zone=0 use=2',
  'ipv6     10 tcp      6 120 ESTABLISHED src=fd00:0000:0000:0000:0000:0000:0000:0002 dst=2001:0db8:0000:0000:0000:0000:0000:0001 sport=40000 dport=8443 src=fd00:0000:0000:0000:0000:0000:0000:0001 dst=fd00:0000:0000:0000:0000:0000:0000:0002 sport=8082 dport=40000 [ASSURED] mark=0 zone=0 use=2',
].join('\n');

describe('conntrack', () => {
  it('finds the original address and port by the reply tuple, telling apart two phones on the same source port', () => {
    const local = { address: '10.73.0.1', port: 8082 };
    expect(findOriginalDestination(TABLE, { protocol: 'tcp', remote: { address: '10.73.0.2', port: 45786 }, local })).toEqual({ address: '93.184.216.34', port: 5222 });
    expect(findOriginalDestination(TABLE, { protocol: 'tcp', remote: { address: '::ffff:10.73.0.3', port: 45786 }, local })).toEqual({ address: '93.184.216.35', port: 443 });
  });

  it('reads UDP (unreplied) and IPv6 entries, and finds nothing for a connection it does not hold', () => {
    expect(findOriginalDestination(TABLE, { protocol: 'udp', remote: { address: '10.73.0.2', port: 5000 }, local: { address: '10.73.0.1', port: 40000 } })).toEqual({ address: '1.2.3.4', port: 9999 });
    expect(findOriginalDestination(TABLE, { protocol: 'tcp', remote: { address: 'fd00::2', port: 40000 }, local: { address: 'fd00::1', port: 8082 } })).toEqual({ address: '2001:db8::1', port: 8443 });
    expect(findOriginalDestination(TABLE, { protocol: 'udp', remote: { address: '10.73.0.2', port: 45786 }, local: { address: '10.73.0.1', port: 8082 } })).toBeUndefined();
  });

  it('spells addresses one way', () => {
    expect(canonicalIp('::1')).toBe('0000:0000:0000:0000:0000:0000:0000:0001');
    expect(canonicalIp('::ffff:10.0.0.1')).toBe('10.0.0.1');
  });
});
