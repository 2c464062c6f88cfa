// The setup page names only addresses a phone can reach the proxy on.
import { describe, expect, it } from 'vitest';
import { reachableAddresses } from '../../proxy/util/addresses';
import { renderSetupPage } from '../../proxy/server/setup-page';

const LAN = ['192.168.1.20', '10.0.0.5'];

describe('where a phone reaches the proxy', () => {
  it('is every LAN address for a wildcard bind, the bound address otherwise, nothing on loopback', () => {
    expect(reachableAddresses(undefined, LAN)).toEqual(LAN);
    expect(reachableAddresses('0.0.0.0', LAN)).toEqual(LAN);
    expect(reachableAddresses('10.0.0.5', LAN)).toEqual(['10.0.0.5']);
    expect(reachableAddresses('127.0.0.1', LAN)).toEqual([]);
    expect(reachableAddresses('::1', LAN)).toEqual([]);
  });

  it('the setup page of a loopback-only proxy shows no LAN address and says how to fix it', async () => {
    const html = await renderSetupPage({ proxyPort: 18080, lanAddresses: reachableAddresses('127.0.0.1', LAN), listenHost: '127.0.0.1', caPem: '' });
    for (const a of LAN) expect(html).not.toContain(a);
    expect(html).toContain('No phone can reach the proxy');
    expect(html).toContain('<code>127.0.0.1:18080</code>');
    expect(html).toContain('--proxy-host 0.0.0.0');
  });

  it('the setup page of a LAN proxy lists its addresses', async () => {
    const html = await renderSetupPage({ proxyPort: 18080, lanAddresses: reachableAddresses('0.0.0.0', LAN), caPem: '' });
    expect(html).toContain('<code>192.168.1.20:18080</code> or <code>10.0.0.5:18080</code>');
    expect(html).not.toContain('No phone can reach');
  });
});
