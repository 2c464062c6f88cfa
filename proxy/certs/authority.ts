// leakscope's certificate authority: created once per data dir, then one leaf key pair per process
// shared by every host, so a new host costs one signature (well under a millisecond) instead of an RSA
// key generation (150–190 ms with http-mitm-proxy's default).
import 'reflect-metadata';
import { createPrivateKey, sign, webcrypto, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import * as x509 from '@peculiar/x509';
import { LruMap } from '../util/lru-map';

const crypto = webcrypto as unknown as Crypto;
x509.cryptoProvider.set(crypto);

const RSA: RsaHashedKeyGenParams = {
  name: 'RSASSA-PKCS1-v1_5',
  hash: 'SHA-256',
  publicExponent: new Uint8Array([1, 0, 1]),
  modulusLength: 2048,
};
const DAY = 24 * 3600 * 1000;

/**
 * Hosts whose leaf certificate is kept. Host names come from clients (CONNECT target, SNI), so the cache is
 * bounded: a client sending millions of names must not grow memory without limit. A phone talks to a few
 * hundred hosts over hours, so the cap never costs a tester anything; a leaf is ~1.4 KiB of heap (its PEM; the
 * key and CA strings are shared), measured at +13.6 MB for 10,000 leaves, and re-minting an evicted one is a
 * signature (well under a millisecond).
 */
export const LEAF_CACHE_HOSTS = 10_000;

export interface CaFiles {
  /** folder laid out as http-mitm-proxy expects: certs/ca.pem, keys/ca.private.key, keys/ca.public.key */
  dir: string;
  certPem: string;
}

export interface LeafCertificate {
  cert: string;
  key: string;
}

function pem(label: string, der: ArrayBuffer | Uint8Array): string {
  const b64 = Buffer.from(der instanceof Uint8Array ? der : new Uint8Array(der)).toString('base64').replace(/(.{64})/g, '$1\n').trim();
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

/** The CA certificate in `dir` (PEM) if one was made there; never creates one. */
export function existingCaPem(dir: string): string | undefined {
  const file = caPaths(dir).cert;
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
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

// DER, as much as a leaf certificate needs: definite lengths, certificates well under 64 KiB.
function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  const n = body.length;
  const length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return Buffer.concat([Buffer.from([tag, ...length]), body]);
}

/** The elements of a DER SEQUENCE (or any constructed value), each whole: tag, length and content. */
function children(der: Buffer): Buffer[] {
  const out: Buffer[] = [];
  const [, first] = der;
  let i = first < 0x80 ? 2 : 2 + (first & 0x7f);
  while (i < der.length) {
    const lengthByte = der[i + 1];
    let length = lengthByte;
    let header = 2;
    if (lengthByte >= 0x80) {
      header += lengthByte & 0x7f;
      length = 0;
      for (let k = 0; k < (lengthByte & 0x7f); k++) length = length * 256 + der[i + 2 + k];
    }
    out.push(der.subarray(i, i + header + length));
    i += header + length;
  }
  return out;
}

const SAN_OID = Buffer.from([0x06, 0x03, 0x55, 0x1d, 0x11]);

function utcTime(date: Date): Buffer {
  // UTCTime (YYMMDDHHMMSSZ) covers dates before 2050, which every leaf's validity is.
  return tlv(0x17, Buffer.from(date.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z', 'latin1'));
}

/**
 * Mints leaf certificates for hosts, signed by the CA, all with one shared P-256 key pair (cheaper handshakes
 * than RSA; a leaf's key type need not match its CA's). One certificate is made with @peculiar/x509 at start;
 * every other one reuses its DER (issuer, key, constant extensions), changing only the serial, validity,
 * subject and subjectAltName, and is signed with one RSA signature: a fraction of a millisecond where the
 * generic ASN.1 path took about five.
 */
export class LeafMinter {
  private readonly cache: LruMap<string, Promise<LeafCertificate>>;

  private constructor(
    private readonly caKey: KeyObject,
    private readonly caPem: string,
    /** the template's TBS elements: version, signature algorithm, issuer, subject public key */
    private readonly tbs: { version: Buffer; signatureAlgorithm: Buffer; issuer: Buffer; publicKey: Buffer },
    /** the template's extensions but subjectAltName, each whole */
    private readonly extensions: Buffer[],
    private readonly leafKeyPem: string,
    cacheHosts: number,
  ) {
    this.cache = new LruMap(cacheHosts);
  }

  /** `cacheHosts`: how many hosts' certificates are kept, least recently used dropped first. */
  static async create(ca: CaFiles, { cacheHosts = LEAF_CACHE_HOSTS }: { cacheHosts?: number } = {}): Promise<LeafMinter> {
    const { key } = caPaths(ca.dir);
    const keyPem = fs.readFileSync(key, 'utf8');
    const der = Buffer.from(keyPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
    const caSigningKey = await crypto.subtle.importKey('pkcs8', der, RSA, false, ['sign']);
    const leafKeys = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
    const leafKeyPem = pem('PRIVATE KEY', await crypto.subtle.exportKey('pkcs8', leafKeys.privateKey));
    const caCert = new x509.X509Certificate(ca.certPem);
    const template = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject: [{ CN: ['leakscope.template'] }],
      issuer: caCert.subject,
      notBefore: new Date(Date.now() - DAY),
      notAfter: new Date(Date.now() + 390 * DAY),
      publicKey: leafKeys.publicKey,
      signingKey: caSigningKey,
      signingAlgorithm: RSA,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        await x509.AuthorityKeyIdentifierExtension.create(caCert),
      ],
    });
    const [tbsDer] = children(Buffer.from(template.rawData));
    const [version, , signatureAlgorithm, issuer, , , publicKey, extensionsField] = children(tbsDer);
    const [extensionList] = children(extensionsField);
    const extensions = children(extensionList).filter((e) => !children(e)[0].equals(SAN_OID));
    return new LeafMinter(createPrivateKey(keyPem), ca.certPem.trimEnd() + '\n', { version, signatureAlgorithm, issuer, publicKey }, extensions, leafKeyPem, cacheHosts);
  }

  /** The certificate for `host`, minted on first use and cached until it is the least recently used of too many. */
  certificateFor(host: string): Promise<LeafCertificate> {
    let entry = this.cache.get(host);
    if (!entry) {
      const minted = this.mint(host);
      this.cache.set(host, minted);
      minted.catch(() => this.cache.deleteIf(host, minted));
      entry = minted;
    }
    return entry;
  }

  /** How many hosts' certificates are cached. */
  get cachedHosts(): number {
    return this.cache.size;
  }

  private mint(host: string): Promise<LeafCertificate> {
    const ip = net.isIP(host);
    const name = ip ? ipBytes(host) : Buffer.from(host, 'latin1');
    const subject = tlv(0x30, tlv(0x31, tlv(0x30, Buffer.from([0x06, 0x03, 0x55, 0x04, 0x03]), tlv(0x0c, Buffer.from(host.slice(0, 64), 'utf8')))));
    // subjectAltName: dNSName [2] or iPAddress [7]
    const san = tlv(0x30, SAN_OID, tlv(0x04, tlv(0x30, tlv(ip ? 0x87 : 0x82, name))));
    const serial = Buffer.from(crypto.getRandomValues(new Uint8Array(16)));
    serial[0] = (serial[0] & 0x3f) | 0x40; // positive, and no leading byte DER would drop
    const now = Date.now();
    const tbs = tlv(
      0x30,
      this.tbs.version,
      tlv(0x02, serial),
      this.tbs.signatureAlgorithm,
      this.tbs.issuer,
      // Apple and Chrome reject leaf certificates valid for more than 398 days.
      tlv(0x30, utcTime(new Date(now - DAY)), utcTime(new Date(now + 390 * DAY))),
      subject,
      this.tbs.publicKey,
      tlv(0xa3, tlv(0x30, ...this.extensions, san)),
    );
    return new Promise((resolve, reject) => {
      // The callback form signs on the thread pool, off the event loop.
      sign('sha256', tbs, this.caKey, (err, signature) => {
        if (err) return reject(err);
        const cert = tlv(0x30, tbs, this.tbs.signatureAlgorithm, tlv(0x03, Buffer.from([0]), signature));
        resolve({ cert: pem('CERTIFICATE', cert) + this.caPem, key: this.leafKeyPem });
      });
    });
  }
}

function ipBytes(ip: string): Buffer {
  if (net.isIPv4(ip)) return Buffer.from(ip.split('.').map(Number));
  // An embedded IPv4 tail (::ffff:1.2.3.4) is the last two groups.
  const v4 = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(ip);
  if (v4) {
    const [a, b, c, d] = v4[2].split('.').map(Number);
    return ipBytes(`${v4[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`);
  }
  const [head, tail = ''] = ip.split('::');
  const groups = (part: string) => (part ? part.split(':') : []);
  const h = groups(head);
  const t = groups(tail);
  const all = ip.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  return Buffer.from(all.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]));
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
