// Who may use the proxy, and where they may not go through it.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startMitm, type MitmOptions, type MitmProxy } from '../../proxy/capture/mitm';
import { dashboardGuard } from '../../proxy/capture/own-dashboard';
import { ensureCa, LeafMinter } from '../../proxy/certs/authority';
import { UsageError } from '../../proxy/cli/errors';
import { clientAllowlist } from '../../proxy/config/client-allowlist';
import { log } from '../../proxy/log';
import { tempDir } from '../helpers/leakscope';
import { startUpstream, type Upstream } from '../helpers/upstream';
import { exchange } from '../faults/raw';

describe('client allowlist', () => {
  const allowed = clientAllowlist();

  it.each(['127.0.0.1', '127.8.9.10', '10.1.2.3', '172.16.0.1', '172.31.255.254', '192.168.1.23', '169.254.1.1', '100.64.0.9', '::1', 'fd12::1', 'fe80::1'])(
    'accepts loopback and private %s by default',
    (address) => expect(allowed(address)).toBe(true),
  );

  it.each(['8.8.8.8', '203.0.113.5', '172.32.0.1', '192.169.0.1', '2001:db8::1', 'unknown', '', 'localhost', '::ffff:8.8.8.8'])(
    'refuses %s by default',
    (address) => expect(allowed(address)).toBe(false),
  );

  it('widens with --allow ranges, and only by them', () => {
    const wider = clientAllowlist(['203.0.113.0/24', '2001:db8::/32']);
    expect(wider('203.0.113.77')).toBe(true);
    expect(wider('2001:db8::5')).toBe(true);
    expect(wider('203.0.114.1')).toBe(false);
  });

  it.each(['203.0.113.0/33', 'nonsense', '1.2.3.4/x', '::/129'])('rejects --allow %s as bad usage', (cidr) => {
    expect(() => clientAllowlist([cidr])).toThrow(UsageError);
  });
});

describe('dashboard guard', () => {
  const guard = dashboardGuard({ port: 8081, hosts: ['127.0.0.1', '192.168.1.5'] });

  it.each(['127.0.0.1', '127.0.0.2', 'localhost', 'LOCALHOST.', '0.0.0.0', '::1', '192.168.1.5'])(
    'refuses a phone asking for %s:8081',
    (host) => expect(guard('192.168.1.23', host, 8081)).toMatch(/dashboard/),
  );

  it('lets other destinations and loopback clients through', () => {
    expect(guard('192.168.1.23', 'example.com', 8081)).toBeUndefined();
    expect(guard('192.168.1.23', '127.0.0.1', 8082)).toBeUndefined();
    expect(guard('127.0.0.1', '127.0.0.1', 8081)).toBeUndefined();
  });
});

describe('refusals on the wire', () => {
  let upstream: Upstream;
  let ca: { dir: string; minter: LeafMinter };

  beforeAll(async () => {
    upstream = await startUpstream({ tls: false });
    const files = await ensureCa(path.join(tempDir(), 'ca'));
    ca = { dir: files.dir, minter: await LeafMinter.create(files) };
  });

  afterAll(() => upstream?.close());

  // Only loopback is available to a test, so the policies under test are swapped in whole.
  async function proxyWith(policy: Pick<MitmOptions, 'clientAllowed' | 'refuseTarget'>): Promise<MitmProxy> {
    return startMitm({
      host: '127.0.0.1',
      port: 0,
      caDir: ca.dir,
      minter: ca.minter,
      hooks: {
        inspect: async () => ({}),
        complete: async () => {},
        inspectStream: async () => ({}),
        closeTunnel: async () => {},
        openWebSocket: () => ({ send: async () => ({}), receive: () => {}, close: () => {} }),
      },
      upstreamTimeout: 2000,
      idleTimeout: 60_000,
      headersTimeout: 2000,
      stopGrace: 100,
      localHandler: () => undefined,
      onTlsError: () => {},
      ...policy,
    });
  }

  it('answers a client outside the allowed ranges 403 and logs it', async () => {
    const warn = vi.spyOn(log, 'warn');
    const proxy = await proxyWith({ clientAllowed: () => false, refuseTarget: () => undefined });
    try {
      const r = await exchange(proxy.port, `GET ${upstream.url}/outsider HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
      expect(r.data).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n[\s\S]*client not allowed/);
      expect(upstream.received).toEqual([]);
      expect(warn).toHaveBeenCalledWith({ client: '127.0.0.1' }, expect.stringMatching(/refused a client/));
    } finally {
      warn.mockRestore();
      await proxy.close();
    }
  });

  it('answers 403 to a request for a refused destination, without contacting it', async () => {
    const warn = vi.spyOn(log, 'warn');
    const proxy = await proxyWith({ clientAllowed: () => true, refuseTarget: (_c, _h, port) => (port === upstream.port ? 'the dashboard is not reachable through the proxy' : undefined) });
    try {
      const r = await exchange(proxy.port, `GET ${upstream.url}/dashboard HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
      expect(r.data).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n[\s\S]*dashboard is not reachable/);
      expect(upstream.received).toEqual([]);
      expect(warn).toHaveBeenCalledWith({ client: '127.0.0.1', host: '127.0.0.1', port: upstream.port }, expect.stringMatching(/dashboard/));
    } finally {
      warn.mockRestore();
      await proxy.close();
    }
  });
});

it('keeps no private key outside the CA key file, which is 0600 in a 0700 dir', async () => {
  const dir = path.join(tempDir(), 'ca');
  await ensureCa(dir);
  expect(fs.statSync(path.join(dir, 'keys', 'ca.private.key')).mode & 0o777).toBe(0o600);
  expect(fs.statSync(path.join(dir, 'keys')).mode & 0o777).toBe(0o700);
  expect(fs.readFileSync(path.join(dir, 'certs', 'ca.pem'), 'utf8')).not.toMatch(/PRIVATE/);
});
