import { createHash } from 'node:crypto';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createDetector } from '../../proxy/detect';
import type { Finding } from '../../shared/types';
import { exampleIdentifiers } from './helpers';

const detector = createDetector(exampleIdentifiers());
const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const post = (body: Buffer, headers: Record<string, string> = {}) =>
  detector.scanRequest({ method: 'POST', url: 'https://api.example.cn/v1/report', headers, body });
const pick = (findings: Finding[]) => findings.map((f) => `${f.type} ${f.where} ${f.path} ${f.encoding} ${f.confidence}`);

describe('known values', () => {
  it('finds them in the URL path, query, headers and cookies with their keys', async () => {
    const r = await detector.scanRequest({
      url: 'https://t.example.cn/imei/865123456789012/ping?aid=9774d56d682e549c&tel=%2B8613800138000',
      headers: { 'X-Serial': 'RM1S0012345', Cookie: 'sid=abc; mac=A0-86-C6-12-34-56' },
    });
    expect(pick(r.findings)).toEqual([
      'imei url (path) plain known',
      'android_id url aid plain known',
      'phone_number url tel urlencoded known',
      'serial_number header x-serial plain known',
      'mac_address cookie mac plain known',
    ]);
    expect(r.findings[0]).toMatchObject({ value: '865123456789012', device: 'RedMi 1S' });
  });

  it('reports hashes and the chain undone, outermost last', async () => {
    const sha1 = createHash('sha1').update('865123456789012').digest('hex').toUpperCase();
    const md5b64 = createHash('md5').update('tester@example.org').digest('base64');
    const inner = gzipSync(json({ dev: { imsi: '460001234567890' } })).toString('base64');
    const r = await post(gzipSync(json({ h: sha1, e: md5b64, blob: inner })), { 'content-encoding': 'gzip' });
    expect(pick(r.findings)).toEqual([
      'imei body $.h sha1+hex+gzip known',
      'email body $.e md5+base64+gzip known',
      'imsi body $.blob.dev.imsi gzip+base64+gzip known',
    ]);
  });

  it('reads JSON held in JSON strings, form fields, multipart parts, XML and deflate/br bodies', async () => {
    const form = `event=open&data=${encodeURIComponent(JSON.stringify({ device: { ids: ['x', 'a086c6123456'] } }))}`;
    expect(pick((await post(Buffer.from(form), { 'content-type': 'application/x-www-form-urlencoded' })).findings)).toEqual([
      'mac_address body data.device.ids[1] urlencoded known',
    ]);
    const oneField = await post(Buffer.from('deviceid=865123456789012'), { 'content-type': 'application/x-www-form-urlencoded' });
    expect(pick(oneField.findings)).toEqual(['imei body deviceid plain known']);
    // undeclared, a lone `key=value` is text, not a form
    expect(pick((await post(Buffer.from('deviceid=865123456789012'))).findings)).toEqual(['imei body  plain known']);
    // an ICCID written as a JSON number is beyond 2^53: its digits must survive parsing
    const bigNumber = Buffer.from('{"sim":{"iccid":89860012345678901234,"n":[1, 865123456789012]}}');
    expect(pick((await post(bigNumber, { 'content-type': 'application/json' })).findings)).toEqual([
      'iccid body $.sim.iccid plain known',
      'imei body $.sim.n[1] plain known',
    ]);
    const nested = json({ payload: JSON.stringify({ sim: { iccid: '89860012345678901234' } }) });
    expect(pick((await post(deflateSync(nested), { 'content-encoding': 'deflate' })).findings)).toEqual([
      'iccid body $.payload.sim.iccid deflate known',
    ]);
    const xml = Buffer.from('<req><dev meid="a1000012345678"/><sn>RM1S0012345</sn></req>');
    expect(pick((await post(brotliCompressSync(xml), { 'content-encoding': 'br' })).findings)).toEqual([
      'meid body dev@meid br known',
      'serial_number body sn br known',
    ]);
    const multipart = Buffer.from(
      '--XyZ\r\nContent-Disposition: form-data; name="meta"\r\n\r\n{"gaid":"38400000-8cf0-11bd-b23e-10b96e40000d"}\r\n--XyZ--\r\n',
    );
    expect(pick((await post(multipart, { 'content-type': 'multipart/form-data; boundary=XyZ' })).findings)).toEqual([
      'advertising_id body meta.gaid plain known',
    ]);
  });

  it('matches phone numbers in any national or international form, not inside longer numbers', async () => {
    for (const written of ['13800138000', '+86 138 0013 8000', '008613800138000', '138-0013-8000', '8613800138000']) {
      const r = await post(json({ msisdn: written }));
      expect(pick(r.findings), written).toEqual(['phone_number body $.msisdn plain known']);
    }
    expect((await post(json({ n: '913800138000' }))).findings).toEqual([]);
  });

  it('finds SMS text plain, URL-encoded and JSON-escaped, Chinese included', async () => {
    const chinese = '你的验证码是 482913，请勿泄露';
    const r1 = await post(Buffer.from(`body=${encodeURIComponent(chinese)}&from=10086`));
    expect(pick(r1.findings)).toEqual(['sms body body urlencoded known']);
    const escaped = JSON.stringify({ m: chinese }).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    const r2 = await post(Buffer.from(`log: ${escaped}`));
    expect(pick(r2.findings)).toEqual(['sms body  plain known']);
  });

  it('finds a known location to 3+ decimals in either order, not a lone latitude', async () => {
    expect(pick((await post(json({ gps: { lng: 116.40741, lat: 39.90423 } }))).findings)).toEqual(['location body $.gps plain known']);
    expect(pick((await post(json({ ll: '116.407,39.904' }))).findings)).toEqual(['location body $.ll plain known']);
    expect((await post(json({ lat: 39.9042, lon: 12.5 }))).findings).toEqual([]);
  });

  it('tags a request carrying three of the tester contacts as a contact list', async () => {
    const r = await post(json({ contacts: ['+12025550143', '(202) 555-0144', '202.555.0145'].map((tel) => ({ tel })) }));
    expect(r.findings.filter((f) => f.type === 'contact')).toHaveLength(3);
    expect(r.tags).toEqual(['contact-list']);
  });

  it('scans WebSocket messages, text and binary', async () => {
    const text = await detector.scanWebSocket('wss://x', JSON.stringify({ op: 'hello', imei: '865123456789012' }));
    expect(pick(text.findings)).toEqual(['imei websocket $.imei plain known']);
    const binary = Buffer.concat([Buffer.from([0x0a, 0x0f]), Buffer.from('865123456789012'), Buffer.from([0x12, 0x01, 0x00])]);
    expect(pick((await detector.scanWebSocket('wss://x', binary)).findings)).toEqual(['imei websocket $.1 protobuf known']);
  });

  it('deduplicates the same occurrence found through several forms', async () => {
    const r = await post(json({ imei: '865123456789012', imei14: '86512345678901' }));
    expect(pick(r.findings)).toEqual(['imei body $.imei plain known', 'imei body $.imei14 plain known']);
  });
});
