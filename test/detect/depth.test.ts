// Decoding by what a body is: protobuf (schema-less), gRPC frames, JWTs, forms and multipart without their
// Content-Type, base64 inside plain text; hash variants and coordinates in China's datums.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import protobuf from 'protobufjs/minimal.js';
import { describe, expect, it } from 'vitest';
import { createDetector } from '../../proxy/detect';
import { parseHar } from '../../proxy/detect/har';
import { EMPTY_IDENTIFIERS } from '../../shared/identifiers';
import type { Finding } from '../../shared/types';
import { exampleIdentifiers } from './helpers';

const known = createDetector(exampleIdentifiers());
const patterns = createDetector(EMPTY_IDENTIFIERS);
const post = (detector: typeof known, body: Buffer, headers: Record<string, string> = {}) =>
  detector.scanRequest({ method: 'POST', url: 'https://api.example.cn/v1/report', headers, body });
const pick = (findings: Finding[]) => findings.map((f) => `${f.type} ${f.value} ${f.path} ${f.encoding} ${f.confidence}`);

/** A message like an SDK's: IMEI as int64 (field 2), Android ID as fixed64 (field 3), a nested device (4). */
function deviceMessage(): Buffer {
  const device = protobuf.Writer.create().uint32((1 << 3) | 2).string('Pixel 7').uint32((2 << 3) | 1).double(39.9042).uint32((3 << 3) | 1).double(116.4074).finish();
  return Buffer.from(
    protobuf.Writer.create()
      .uint32((1 << 3) | 0).int64(1700000000123)
      .uint32((2 << 3) | 0).int64('865123456789012')
      .uint32((3 << 3) | 1).fixed64(BigInt('0x9774d56d682e549c').toString())
      .uint32((4 << 3) | 2).bytes(device)
      .finish(),
  );
}

describe('protobuf', () => {
  it('reads numbers as numbers, field numbers as the path, in an undeclared binary body', async () => {
    const r = await post(known, deviceMessage(), { 'content-type': 'application/octet-stream' });
    expect(pick(r.findings)).toEqual([
      'imei 865123456789012 $.2 protobuf known',
      'android_id 9774d56d682e549c $.3 protobuf known',
      'location 39.9042,116.4074 $.4 protobuf known',
    ]);
  });

  it('finds a signed 64-bit Android ID (top bit set) written as int64', async () => {
    const id = 'c774d56d682e549c';
    const detector = createDetector({ devices: [{ ...exampleIdentifiers().devices[0], android_id: [id] }] });
    const body = Buffer.from(protobuf.Writer.create().uint32((7 << 3) | 0).int64((BigInt(`0x${id}`) - (1n << 64n)).toString()).finish());
    const r = await post(detector, body, { 'content-type': 'application/x-protobuf' });
    expect(pick(r.findings)).toEqual([`android_id ${id} $.7 protobuf known`]);
  });

  it('finds a checksummed IMEI varint by pattern, in base64 of a message', async () => {
    const message = protobuf.Writer.create().uint32((2 << 3) | 0).int64('865123456789019').uint32((5 << 3) | 0).int64(1700000000123).finish();
    const b64 = Buffer.from(message).toString('base64');
    const r = await post(patterns, Buffer.from(JSON.stringify({ payload: b64 })), { 'content-type': 'application/json' });
    expect(pick(r.findings)).toEqual(['imei 865123456789019 $.payload.2 protobuf+base64 pattern']);
  });

  it('takes no repeated number for a phone: one field across every event is not a list of numbers', async () => {
    const batch = protobuf.Writer.create();
    for (let e = 0; e < 40; e++) {
      const params = protobuf.Writer.create();
      for (let p = 0; p < 2; p++) params.uint32((1 << 3) | 2).string(`p${p}`).uint32((2 << 3) | 0).int64(413_000 + 7919 * e + p);
      batch.uint32((2 << 3) | 2).bytes(protobuf.Writer.create().uint32((1 << 3) | 2).string('screen_view').uint32((3 << 3) | 2).bytes(params.finish()).finish());
    }
    const r = await post(patterns, Buffer.from(batch.finish()), { 'content-type': 'application/x-protobuf' });
    expect(r.findings).toEqual([]);
    expect(r.tags).toEqual([]);
  });

  it('reads gRPC frames, gzip-compressed ones too, from their bytes or their content type', async () => {
    const message = deviceMessage();
    const frame = (flag: number, m: Buffer) => {
      const head = Buffer.from([flag, 0, 0, 0, 0]);
      head.writeUInt32BE(m.length, 1);
      return Buffer.concat([head, m]);
    };
    const zipped = gzipSync(message);
    const body = Buffer.concat([frame(0, Buffer.from(protobuf.Writer.create().uint32(10).string('ping').finish())), frame(1, zipped)]);
    for (const headers of [{ 'content-type': 'application/grpc', 'grpc-encoding': 'gzip' }, {}] as Record<string, string>[]) {
      const r = await post(known, body, headers);
      expect(pick(r.findings)).toContain('imei 865123456789012 $.2 protobuf+gzip known');
    }
  });

  it('leaves printable text that happens to parse as protobuf alone unless declared', async () => {
    const r = await post(patterns, Buffer.from('hello world, nothing here'), { 'content-type': 'text/plain' });
    expect(r.findings).toEqual([]);
  });
});

describe('JWT', () => {
  const token = (claims: object) =>
    `${Buffer.from(JSON.stringify({ alg: 'RS256', kid: 'k1' })).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.c2lnbmF0dXJl`;

  it('decodes the claims in pattern and known mode, in a header and a body', async () => {
    const jwt = token({ email: 'someone@example.net', phone_number: '+12025550143', sub: 'u1' });
    const r = await patterns.scanRequest({ url: 'https://securetoken.example.com/v1', headers: { authorization: `Bearer ${jwt}` } });
    expect(pick(r.findings)).toEqual(['email someone@example.net authorization.email jwt pattern', 'phone_number +12025550143 authorization.phone_number jwt pattern']);
    const k = await post(known, Buffer.from(JSON.stringify({ idToken: token({ email: 'tester@example.org' }) })));
    expect(pick(k.findings)).toEqual(['email Tester@Example.org $.idToken.email jwt known']);
  });
});

describe('bodies parsed by what they are', () => {
  const hashed = createHash('sha256').update('9774d56d682e549c').digest('hex');
  const inner = Buffer.from(JSON.stringify({ did: hashed })).toString('base64');

  it('a form with no or the wrong Content-Type, one field or many, holding base64 JSON', async () => {
    for (const headers of [{}, { 'content-type': 'text/plain' }, { 'content-type': 'application/octet-stream' }] as Record<string, string>[]) {
      for (const body of [`data=${encodeURIComponent(inner)}`, `v=2&data=${encodeURIComponent(inner)}`]) {
        const r = await post(known, Buffer.from(body), headers);
        expect(pick(r.findings), `${body} ${JSON.stringify(headers)}`).toEqual(['android_id 9774d56d682e549c data.did sha256+hex+base64+urlencoded known']);
      }
    }
  });

  it('multipart without its Content-Type', async () => {
    const body = `--XyZ123\r\nContent-Disposition: form-data; name="imei"\r\n\r\n865123456789012\r\n--XyZ123--\r\n`;
    const r = await post(known, Buffer.from(body), { 'content-type': 'text/plain' });
    expect(pick(r.findings)).toEqual(['imei 865123456789012 imei plain known']);
  });

  it('base64 and hex runs inside plain text', async () => {
    const hex = Buffer.from('865123456789012').toString('hex');
    const r = await post(known, Buffer.from(`LOG v=3 token ${inner} dev ${hex} end`), { 'content-type': 'text/plain' });
    expect(pick(r.findings)).toEqual(['imei 865123456789012  hex known', 'android_id 9774d56d682e549c $.did sha256+hex+base64 known']);
  });

  it('a run right after `key=` in plain text, and right after another run\'s padding, from its first character', async () => {
    const device = Buffer.from(JSON.stringify({ device: { imei: '865123456789012' } })).toString('base64');
    for (const text of [`event=open id=${device} at 12:00`, `log: id=${device} end`, `pair ${inner}${device} end`]) {
      const r = await post(known, Buffer.from(text), { 'content-type': 'text/plain' });
      expect(pick(r.findings).filter((f) => f.startsWith('imei')), text).toEqual(['imei 865123456789012 $.device.imei base64 known']);
    }
  });

  it('scan takes the body type from a HAR entry postData.mimeType when no header names it', () => {
    const har = { log: { entries: [{ request: { method: 'POST', url: 'https://x.example/a', headers: [], postData: { mimeType: 'application/x-www-form-urlencoded', text: 'a=1' } } }] } };
    expect(parseHar(JSON.stringify(har))[0].headers).toEqual({ 'content-type': 'application/x-www-form-urlencoded' });
  });
});

describe('hash variants and datums', () => {
  it('hex without per-byte leading zeros (Integer.toHexString), hashes of the upper-cased value', async () => {
    const digest = createHash('sha1').update('9774d56d682e549c').digest();
    const javaHex = [...digest].map((b) => b.toString(16)).join('');
    expect(javaHex).not.toBe(digest.toString('hex'));
    const upper = createHash('sha256').update('TESTER@EXAMPLE.ORG').digest('hex');
    const r = await post(known, Buffer.from(JSON.stringify({ u: javaHex, e: upper })));
    expect(pick(r.findings)).toEqual(['android_id 9774d56d682e549c $.u sha1+hex known', 'email Tester@Example.org $.e sha256+hex known']);
  });

  it('finds a known WGS-84 location written in GCJ-02 and in BD-09', async () => {
    // 39.9042,116.4074 (WGS-84) is 39.905603,116.413642 in GCJ-02 and 39.911865,116.420046 in BD-09
    const r = await post(known, Buffer.from(JSON.stringify({ amap: { lat: 39.905603, lng: 116.413642 }, baidu: { latitude: '39.911865', longitude: '116.420046' } })));
    expect(pick(r.findings)).toEqual(['location 39.9042,116.4074 $.amap gcj02 known', 'location 39.9042,116.4074 $.baidu bd09 known']);
    const nowhere = await post(known, Buffer.from(JSON.stringify({ p: { lat: 39.95, lng: 116.45 } })));
    expect(nowhere.findings.filter((f) => f.confidence === 'known')).toEqual([]);
  });
});
