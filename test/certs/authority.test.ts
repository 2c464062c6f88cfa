// The CA and the leaf certificates minted from its DER template, checked by Node's own X.509 parser and by a
// real TLS handshake that trusts only leakscope's CA.
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { isIP, type AddressInfo } from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCa, LeafMinter, type CaFiles } from '../../proxy/certs/authority';
import { tempDir } from '../helpers/leakscope';

const DAY = 86_400_000;
const HAS_OPENSSL = spawnSync('openssl', ['version']).status === 0;

describe('leaf certificates', () => {
  let dir: string;
  let ca: CaFiles;
  let caCert: crypto.X509Certificate;
  let minter: LeafMinter;

  beforeAll(async () => {
    dir = tempDir('leakscope-ca-');
    ca = await ensureCa(dir);
    caCert = new crypto.X509Certificate(ca.certPem);
    minter = await LeafMinter.create(ca);
  });

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const leafOf = async (host: string) => {
    const { cert, key } = await minter.certificateFor(host);
    const [leafPem] = cert.split(/(?<=-----END CERTIFICATE-----\n)/);
    return { leaf: new crypto.X509Certificate(leafPem), cert, key };
  };

  it.each([
    ['a DNS name', 'api.ad.xiaomi.com', 'DNS:api.ad.xiaomi.com'],
    ['an IPv4 address', '203.0.113.7', 'IP Address:203.0.113.7'],
    ['an IPv6 address', '2001:db8::1', 'IP Address:2001:DB8:0:0:0:0:0:1'],
    ['a name longer than a CN may be', `${'a'.repeat(60)}.${'b'.repeat(60)}.example`, `DNS:${'a'.repeat(60)}.${'b'.repeat(60)}.example`],
  ])('for %s: signed by the CA, names the host, matches the shared key, valid under 398 days', async (_label, host, san) => {
    const { leaf, key, cert } = await leafOf(host);
    expect(leaf.verify(caCert.publicKey)).toBe(true);
    expect(leaf.checkIssued(caCert)).toBe(true);
    expect(leaf.subjectAltName).toBe(san);
    if (isIP(host)) expect(leaf.checkIP(host)).toBe(host);
    else expect(leaf.checkHost(host)).toBe(host);
    expect(leaf.checkPrivateKey(crypto.createPrivateKey(key))).toBe(true);
    expect(leaf.ca).toBe(false);
    const lifetime = Date.parse(leaf.validTo) - Date.parse(leaf.validFrom);
    expect(lifetime).toBeLessThanOrEqual(398 * DAY);
    expect(Date.parse(leaf.validFrom)).toBeLessThan(Date.now());
    expect(cert.endsWith(ca.certPem.trimEnd() + '\n')).toBe(true); // chain: leaf, then CA
  });

  it('has a CA that phones accept as one: CA:true, long-lived, self-signed', () => {
    expect(caCert.ca).toBe(true);
    expect(caCert.checkIssued(caCert)).toBe(true);
    expect(caCert.verify(caCert.publicKey)).toBe(true);
  });

  // OpenSSL's strict mode rejects DER that Node's parser tolerates (lengths, serial encoding, extension shapes).
  it.skipIf(!HAS_OPENSSL)('passes openssl verify -x509_strict for a name and an address', async () => {
    const caFile = path.join(dir, 'ca-only.pem');
    fs.writeFileSync(caFile, ca.certPem);
    for (const host of ['strict.example.org', '198.51.100.9']) {
      const leafFile = path.join(dir, `${host}.pem`);
      fs.writeFileSync(leafFile, (await minter.certificateFor(host)).cert.split(/(?<=-----END CERTIFICATE-----\n)/)[0]);
      const check = host.includes('.org') ? ['-verify_hostname', host] : ['-verify_ip', host];
      expect(execFileSync('openssl', ['verify', '-x509_strict', '-purpose', 'sslserver', ...check, '-CAfile', caFile, leafFile], { encoding: 'utf8' })).toMatch(/: OK/);
    }
  });

  it('gives every host its own serial and caches each host', async () => {
    const a = await leafOf('one.example');
    const b = await leafOf('two.example');
    expect(a.leaf.serialNumber).not.toBe(b.leaf.serialNumber);
    expect((await leafOf('one.example')).cert).toBe(a.cert);
  });

  // Host names come from clients: the cache is bounded, and a host it dropped gets a fresh, valid certificate.
  it('keeps at most its cap of hosts, dropping the least recently used, and re-mints a dropped host', async () => {
    const small = await LeafMinter.create(ca, { cacheHosts: 3 });
    const serialOf = async (cert: Promise<{ cert: string }>) => new crypto.X509Certificate((await cert).cert).serialNumber;
    const a = small.certificateFor('a.example');
    const b = small.certificateFor('b.example');
    await Promise.all([a, b, small.certificateFor('c.example')]);
    expect(small.certificateFor('a.example')).toBe(a); // a hit returns the very promise, and makes a the most recent
    for (const host of ['d.example', 'e.example', 'f.example', 'g.example']) {
      await small.certificateFor(host);
      expect(small.cachedHosts).toBe(3);
      if (host === 'd.example') expect(small.certificateFor('a.example')).toBe(a); // still used, still cached
    }
    // a was last used before e, f and g: now dropped, as b was long ago. Both come back freshly minted and valid.
    for (const [host, before] of [['a.example', a], ['b.example', b]] as const) {
      const again = small.certificateFor(host);
      expect(again).not.toBe(before);
      expect(await serialOf(again)).not.toBe(await serialOf(before));
      const { cert, key } = await again;
      const leaf = new crypto.X509Certificate(cert.split(/(?<=-----END CERTIFICATE-----\n)/)[0]);
      expect(leaf.checkHost(host)).toBe(host);
      expect(leaf.verify(caCert.publicKey)).toBe(true);
      expect(leaf.checkPrivateKey(crypto.createPrivateKey(key))).toBe(true);
      expect(Date.parse(leaf.validFrom)).toBeLessThan(Date.now());
      expect(Date.parse(leaf.validTo)).toBeGreaterThan(Date.now());
      expect(small.cachedHosts).toBe(3);
    }
  });

  it('completes a TLS handshake with a client that trusts only the CA', async () => {
    const { cert, key } = await minter.certificateFor('localhost');
    const server = tls.createServer({ cert, key }, (s) => s.end('hello'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const text = await new Promise<string>((resolve, reject) => {
        const socket = tls.connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, servername: 'localhost', ca: ca.certPem }, () => {
          let data = '';
          socket.on('data', (c: Buffer) => (data += c.toString()));
          socket.on('end', () => resolve(data));
        });
        socket.on('error', reject);
      });
      expect(text).toBe('hello');
    } finally {
      server.close();
    }
  });
});
