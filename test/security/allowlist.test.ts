// Who may use the proxy, and where they may not go through it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startMitm, type MitmOptions, type MitmProxy } from '../../proxy/capture/mitm';
import { targetGuard, viaLoop, type TargetGuard } from '../../proxy/capture/target-guard';
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

describe('target guard', () => {
  const guard = targetGuard({
    listeners: () => [
      { role: 'dashboard', host: '127.0.0.1', port: 8081 },
      { role: 'proxy', host: '0.0.0.0', port: 8080 },
    ],
  });
  const phone = '192.168.1.23';

  it.each(['127.0.0.1', 'localhost', 'LOCALHOST.'])('refuses a phone asking for the dashboard at %s:8081', (host) => {
    expect(guard.check(phone, host, 8081)).toEqual({ status: 403, text: expect.stringMatching(/dashboard is not reachable/) });
  });

  it('does not take another address of the machine for the dashboard bound to 127.0.0.1', () => {
    expect(guard.check('127.0.0.1', '127.0.0.2', 8081)).toBeUndefined();
  });

  it.each(['127.0.0.1', '127.0.0.2', 'localhost', '::1', '0.0.0.0', os.hostname()])('calls %s:8080 a loop (508), for every client', (host) => {
    for (const client of [phone, '127.0.0.1']) expect(guard.check(client, host, 8080)?.status, client).toBe(508);
  });

  it.each(['127.0.0.1', '127.9.9.9', 'localhost', '::1', '169.254.169.254', '169.254.1.1', 'fe80::1', '[fe80::1]', '::ffff:127.0.0.1', '0.0.0.0', 'fd00:ec2::254'])(
    'refuses a phone a loopback or link-local target %s on any port',
    (host) => {
      const refusal = guard.check(phone, host, 5432);
      expect(refusal?.status).toBe(403);
      expect(refusal?.text).toMatch(/tester's machine .*--allow-local-targets/);
    },
  );

  it('lets loopback clients reach local services and the dashboard, and phones reach everything else', () => {
    expect(guard.check('127.0.0.1', '127.0.0.1', 5432)).toBeUndefined();
    expect(guard.check('::1', 'localhost', 8081)).toBeUndefined();
    expect(guard.check(phone, 'example.com', 8081)).toBeUndefined();
    expect(guard.check(phone, '192.168.1.99', 5432)).toBeUndefined();
    expect(guard.check(phone, '10.0.0.1', 80)).toBeUndefined();
  });

  it('opens local targets with --allow-local-targets, but never a loop or the dashboard', () => {
    const open = targetGuard({ listeners: () => [{ role: 'proxy', host: '0.0.0.0', port: 8080 }, { role: 'dashboard', host: '127.0.0.1', port: 8081 }], allowLocalTargets: true });
    expect(open.check(phone, '127.0.0.1', 5432)).toBeUndefined();
    expect(open.check(phone, '127.0.0.1', 8080)?.status).toBe(508);
    expect(open.check(phone, '127.0.0.1', 8081)?.status).toBe(403);
  });

  it('judges the address a name resolves to when it is dialled', async () => {
    const resolve = (g: TargetGuard, local: boolean, name: string, port: number) =>
      new Promise<string>((done) => g.lookup(local, port)(name, { all: true }, (err) => done(err ? (err as Error).message : 'ok')));
    expect(await resolve(guard, false, 'localhost', 5432)).toMatch(/tester's machine/);
    expect(await resolve(guard, true, 'localhost', 5432)).toBe('ok');
    expect(await resolve(guard, true, 'localhost', 8080)).toMatch(/loop/);
  });

  it('finds its own Via token, and only its own', () => {
    expect(viaLoop('1.1 leakscope-abc', 'leakscope-abc')?.status).toBe(508);
    expect(viaLoop(['1.1 squid', '1.1 leakscope-abc (x)'], 'leakscope-abc')?.status).toBe(508);
    expect(viaLoop('1.0 fred, 1.1 leakscope-abc', 'leakscope-abc')?.status).toBe(508);
    expect(viaLoop('1.1 leakscope-abcd', 'leakscope-abc')).toBeUndefined();
    expect(viaLoop(undefined, 'leakscope-abc')).toBeUndefined();
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
  async function proxyWith(policy: Pick<MitmOptions, 'clientAllowed' | 'guard'>): Promise<MitmProxy> {
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
      viaToken: 'leakscope-test',
      ...policy,
    });
  }

  it('answers a client outside the allowed ranges 403 and logs it', async () => {
    const warn = vi.spyOn(log, 'warn');
    const proxy = await proxyWith({ clientAllowed: () => false, guard: targetGuard({ listeners: () => [] }) });
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
    const proxy = await proxyWith({ clientAllowed: () => true, guard: targetGuard({ listeners: () => [{ role: 'proxy', host: '127.0.0.1', port: upstream.port }] }) });
    try {
      const r = await exchange(proxy.port, `GET ${upstream.url}/own HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
      expect(r.data).toMatch(/^HTTP\/1\.1 508 Loop Detected\r\n[\s\S]*loop back into the proxy/);
      expect(upstream.received).toEqual([]);
      expect(warn).toHaveBeenCalledWith({ client: '127.0.0.1', host: '127.0.0.1', port: upstream.port }, expect.stringMatching(/loop/));
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
