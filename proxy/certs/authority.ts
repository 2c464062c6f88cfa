// leakscope's certificate authority: created once per data dir, then one leaf key pair per process
// shared by every host, so a new host costs one signature (about a millisecond) instead of an RSA
// key generation (150–190 ms with http-mitm-proxy's default).
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import * as x509 from '@peculiar/x509';

const crypto = webcrypto as unknown as Crypto;
x509.cryptoProvider.set(crypto);

const RSA: RsaHashedKeyGenParams = {
  name: 'RSASSA-PKCS1-v1_5',
  hash: 'SHA-256',
  publicExponent: new Uint8Array([1, 0, 1]),
  modulusLength: 2048,
};
const DAY = 24 * 3600 * 1000;

export interface CaFiles {
  /** folder laid out as http-mitm-proxy expects: certs/ca.pem, keys/ca.private.key, keys/ca.public.key */
  dir: string;
  certPem: string;
}

export interface LeafCertificate {
  cert: string;
  key: string;
}

function pem(label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').trim();
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

function writePrivate(file: string, content: string): void {
  fs.writeFileSync(file, content, { mode: 0o600 });
  // writeFileSync keeps the mode of an existing file: make sure it is 0600 either way.
  fs.chmodSync(file, 0o600);
}

function caPaths(dir: string) {
  return {
    cert: path.join(dir, 'certs', 'ca.pem'),
    key: path.join(dir, 'keys', 'ca.private.key'),
    pub: path.join(dir, 'keys', 'ca.public.key'),
  };
}

/** Loads the CA from `dir`, creating it on first use. The private key file is mode 0600. */
export async function ensureCa(dir: string): Promise<CaFiles> {
  const files = caPaths(dir);
  fs.mkdirSync(path.dirname(files.cert), { recursive: true, mode: 0o700 });
  fs.mkdirSync(path.dirname(files.key), { recursive: true, mode: 0o700 });
  fs.chmodSync(path.dirname(files.key), 0o700);
  if (fs.existsSync(files.cert) && fs.existsSync(files.key)) {
    fs.chmodSync(files.key, 0o600);
    return { dir, certPem: fs.readFileSync(files.cert, 'utf8') };
  }
  const keys = (await crypto.subtle.generateKey(RSA, true, ['sign', 'verify'])) as CryptoKeyPair;
  const name = 'CN=leakscope CA, O=leakscope, OU=created ' + new Date().toISOString().slice(0, 10);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name,
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + 3650 * DAY),
    keys,
    signingAlgorithm: RSA,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  writePrivate(files.key, pem('PRIVATE KEY', await crypto.subtle.exportKey('pkcs8', keys.privateKey)));
  fs.writeFileSync(files.pub, pem('PUBLIC KEY', await crypto.subtle.exportKey('spki', keys.publicKey)));
  const certPem = cert.toString('pem') + '\n';
  fs.writeFileSync(files.cert, certPem);
  return { dir, certPem };
}

function randomSerial(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] &= 0x7f; // positive
  return Buffer.from(bytes).toString('hex');
}

/** Mints leaf certificates for hosts, signed by the CA, all with one shared key pair. */
export class LeafMinter {
  private readonly cache = new Map<string, Promise<LeafCertificate>>();

  private constructor(
    private readonly caCert: x509.X509Certificate,
    private readonly caKey: CryptoKey,
    private readonly leafKeys: CryptoKeyPair,
    private readonly leafKeyPem: string,
  ) {}

  static async create(ca: CaFiles): Promise<LeafMinter> {
    const { key } = caPaths(ca.dir);
    const der = Buffer.from(
      fs
        .readFileSync(key, 'utf8')
        .replace(/-----[^-]+-----/g, '')
        .replace(/\s+/g, ''),
      'base64',
    );
    const caKey = await crypto.subtle.importKey('pkcs8', der, RSA, false, ['sign']);
    const leafKeys = (await crypto.subtle.generateKey(RSA, true, ['sign', 'verify'])) as CryptoKeyPair;
    const leafKeyPem = pem('PRIVATE KEY', await crypto.subtle.exportKey('pkcs8', leafKeys.privateKey));
    return new LeafMinter(new x509.X509Certificate(ca.certPem), caKey, leafKeys, leafKeyPem);
  }

  /** The certificate for `host`, minted on first use and cached for the life of the process. */
  certificateFor(host: string): Promise<LeafCertificate> {
    let entry = this.cache.get(host);
    if (!entry) {
      entry = this.mint(host);
      this.cache.set(host, entry);
      entry.catch(() => this.cache.delete(host));
    }
    return entry;
  }

  private async mint(host: string): Promise<LeafCertificate> {
    const isIp = net.isIP(host) !== 0;
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject: [{ CN: [isIp ? host : host.slice(0, 64)] }],
      issuer: this.caCert.subject,
      notBefore: new Date(Date.now() - DAY),
      // Apple and Chrome reject leaf certificates valid for more than 398 days.
      notAfter: new Date(Date.now() + 390 * DAY),
      publicKey: this.leafKeys.publicKey,
      signingKey: this.caKey,
      signingAlgorithm: RSA,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension([{ type: isIp ? 'ip' : 'dns', value: host }]),
        await x509.AuthorityKeyIdentifierExtension.create(this.caCert),
      ],
    });
    return { cert: cert.toString('pem') + '\n' + this.caCert.toString('pem') + '\n', key: this.leafKeyPem };
  }
}

/** DER bytes of a PEM certificate, for `/ca.crt` (what Android's installer wants). */
export function pemToDer(certPem: string): Buffer {
  return Buffer.from(new x509.X509Certificate(certPem).rawData);
}

/** base64 SHA-256 of the certificate's SubjectPublicKeyInfo: what Chromium's
 * --ignore-certificate-errors-spki-list takes. */
export async function spkiHash(certPem: string): Promise<string> {
  const cert = new x509.X509Certificate(certPem);
  const digest = await crypto.subtle.digest('SHA-256', cert.publicKey.rawData);
  return Buffer.from(digest).toString('base64');
}
