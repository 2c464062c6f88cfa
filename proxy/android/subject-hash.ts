// OpenSSL's `subject_hash_old`: the name Android gives a CA file in its system store (`<hash>.0`). It is the
// first 4 bytes, read little-endian, of the MD5 of the certificate's DER-encoded subject name, taken as it
// sits in the certificate (re-encoding the name could change its bytes, and with them the hash).
import { createHash, X509Certificate } from 'node:crypto';

interface Tlv {
  /** offset of the first byte of the tag */
  start: number;
  /** offset just past the value */
  end: number;
  tag: number;
  /** offset of the first byte of the value */
  value: number;
}

function readTlv(der: Buffer, at: number): Tlv {
  if (at + 2 > der.length) throw new Error('certificate DER ends early');
  const tag = der[at];
  let len = der[at + 1];
  let value = at + 2;
  if (len & 0x80) {
    const bytes = len & 0x7f;
    if (bytes === 0 || bytes > 4 || value + bytes > der.length) throw new Error('certificate DER has a bad length');
    len = 0;
    for (let i = 0; i < bytes; i++) len = len * 256 + der[value + i];
    value += bytes;
  }
  if (value + len > der.length) throw new Error('certificate DER ends early');
  return { start: at, end: value + len, tag, value };
}

/** The subject Name's DER bytes: the sixth element of tbsCertificate, counting the optional [0] version. */
export function subjectDer(certDer: Buffer): Buffer {
  const cert = readTlv(certDer, 0);
  const tbs = readTlv(certDer, cert.value);
  let field = readTlv(certDer, tbs.value);
  if (field.tag === 0xa0) field = readTlv(certDer, field.end); // explicit version
  // serialNumber, signature, issuer, validity, then subject
  for (let i = 0; i < 4; i++) field = readTlv(certDer, field.end);
  if (field.tag !== 0x30) throw new Error('certificate subject is not a SEQUENCE');
  return certDer.subarray(field.start, field.end);
}

/** `openssl x509 -subject_hash_old` of a PEM certificate: 8 lowercase hex digits. */
export function subjectHashOld(pem: string): string {
  const der = Buffer.from(new X509Certificate(pem).raw);
  const md5 = createHash('md5').update(subjectDer(der)).digest();
  return md5.readUInt32LE(0).toString(16).padStart(8, '0');
}

/** The file name Android's system store expects for this certificate. */
export function systemStoreName(pem: string): string {
  return `${subjectHashOld(pem)}.0`;
}
