// Generates the labelled detection corpus (test/fixtures/corpus.json) and its identifiers file
// (test/fixtures/corpus-identifiers.json): requests modelled on real SDK and vendor formats, each labelled
// with the identifiers truly in it. Seeded, so the same script always writes the same files.
//   node --import tsx scripts/gen-corpus.ts
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import gcoord from 'gcoord';
import protobuf from 'protobufjs/minimal.js';
import { luhnCheckDigit } from '../proxy/detect/patterns/validators';
import type { IdentifierType } from '../shared/types';
import type { CorpusRequest, Label } from '../test/detect/corpus-eval';
import { seededRandom } from '../test/helpers/seeded-random';

const SEED = 20240611;
const POSITIVES = 220;
const NEGATIVES = 130;

const rand = seededRandom(SEED);
const int = (n: number) => Math.floor(rand() * n);
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
const digits = (n: number) => Array.from({ length: n }, () => int(10)).join('');
const hex = (n: number) => Array.from({ length: n }, () => '0123456789abcdef'[int(16)]).join('');
const uuid = () => `${hex(8)}-${hex(4)}-4${hex(3)}-${pick(['8', '9', 'a', 'b'])}${hex(3)}-${hex(12)}`;
const hash = (alg: string, s: string) => createHash(alg).update(s).digest('hex');
const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');

const luhn15 = (prefix: string) => {
  const body = prefix + digits(14 - prefix.length);
  return body + luhnCheckDigit(body);
};
/** 15 digits that fail the Luhn check. */
const luhnBroken15 = (prefix: string) => {
  const valid = luhn15(prefix);
  return valid.slice(0, 14) + String((Number(valid[14]) + 1 + int(8)) % 10);
};
const iccid19 = () => {
  const body = `8986${digits(14)}`;
  return body + luhnCheckDigit(body);
};
const cnMobile = () => `+86 ${pick(['138', '139', '186', '150', '158'])} ${digits(4)} ${digits(4)}`;
const e164 = (p: string) => p.replace(/[^\d+]/g, '');
const mac = () => [pick(['a0', '3c', 'f4', '88', 'dc']), ...Array.from({ length: 5 }, () => hex(2))].join(':');
const coordinate = (min: number, max: number) => (min + rand() * (max - min)).toFixed(4 + int(3));

interface Person {
  name: string;
  phone: string;
  email: string;
}
interface DeviceValues {
  name: string;
  imei: string;
  meid: string;
  imsi: string;
  iccid: string;
  phone: string;
  androidId: string;
  gaid: string;
  mac: string;
  serial: string;
  email: string;
  contacts: Person[];
  sms: string[];
  lat: string;
  lon: string;
}

const GIVEN = ['Li', 'Wang', 'Anna', 'Marco', 'Yuki', 'Omar', 'Sara', 'Chen', 'Ivan', 'Nia'];
const SMS = ['Your code is ', '您的验证码是 ', 'Ihr Code lautet ', '【银行】动账通知：尾号', 'Use OTP '];

function device(name: string, contactBase: number): DeviceValues {
  return {
    name,
    imei: luhn15(pick(['86', '35'])),
    meid: `A${hex(13).toUpperCase()}`,
    imsi: `46000${digits(10)}`,
    iccid: iccid19(),
    phone: cnMobile(),
    androidId: hex(16).replace(/^\d/, 'a'),
    gaid: uuid(),
    mac: mac(),
    serial: `${pick(['RM', 'SN', 'R5C'])}${digits(3)}${hex(6).toUpperCase()}`,
    email: `${pick(GIVEN).toLowerCase()}.${hex(4)}@${pick(['gmail.com', '163.com', 'qq.com', 'outlook.com'])}`,
    contacts: Array.from({ length: 6 }, (_, i) => ({
      name: `${pick(GIVEN)} Canary${contactBase + i}`,
      phone: `+1 ${pick(['202', '212', '415'])} 555 01${String(contactBase + i).padStart(2, '0')}`,
      email: `canary${contactBase + i}@example.org`,
    })),
    sms: Array.from({ length: 3 }, () => `${pick(SMS)}${digits(6)}${pick(['', '，请勿泄露。', '. Do not share it.'])}`),
    lat: coordinate(22, 45),
    lon: coordinate(100, 125),
  };
}

const KNOWN = [device('Pixel 7', 10), device('RedMi 1S', 20), device('iPhone SE', 30)];
/** The home Wi-Fi of each known device (no draw from `rand`: the corpus before these cases stays as it was). */
const homeWifi = (d: DeviceValues) => {
  const h = createHash('sha1').update(d.name).digest('hex');
  return { ssid: `Canary-${h.slice(0, 6)}`, bssid: (h.slice(6, 18).match(/../g) ?? []).join(':').replace(/^../, 'a4') };
};
const identifiers = {
  devices: KNOWN.map((d) => ({
    name: d.name,
    imei: [d.imei],
    meid: [d.meid],
    imsi: [d.imsi],
    iccid: [d.iccid],
    phone_number: [d.phone],
    android_id: [d.androidId],
    advertising_id: [d.gaid],
    mac_address: [d.mac],
    serial_number: [d.serial],
    email: [d.email],
    contacts: d.contacts.map((c) => ({ name: c.name, phone: [c.phone], email: [c.email] })),
    sms: d.sms,
    location: [{ lat: Number(d.lat), lon: Number(d.lon) }],
    wifi: [homeWifi(d).ssid, homeWifi(d).bssid],
  })),
};


/**
 * Writes one request. In `known` mode the device is in the identifiers file: every occurrence is labelled
 * known. Otherwise only what a pattern detector can see (plain, under telling keys) is labelled.
 */
class Builder {
  labels: Label[] = [];
  constructor(
    readonly d: DeviceValues,
    readonly known: boolean,
  ) {}
  /** a value as written in plain text; `patternValue` when a pattern detector can see it */
  plain<T extends string>(type: IdentifierType, knownValue: string, written: T, patternValue?: string): T {
    if (this.known) this.labels.push({ type, value: knownValue, confidence: 'known' });
    else if (patternValue !== undefined) this.labels.push({ type, value: patternValue, confidence: 'pattern' });
    return written;
  }
  /** a value only a known-value matcher can find (hashed, encoded, no telling key) */
  hidden<T extends string>(type: IdentifierType, knownValue: string, written: T): T {
    return this.plain(type, knownValue, written);
  }
  imei = () => this.plain('imei', this.d.imei, this.d.imei, this.d.imei);
  imsi = () => this.plain('imsi', this.d.imsi, this.d.imsi, this.d.imsi);
  iccid = () => this.plain('iccid', this.d.iccid, this.d.iccid, this.d.iccid);
  meid = () => this.plain('meid', this.d.meid, this.d.meid, this.d.meid);
  mac = (upper = false) => this.plain('mac_address', this.d.mac, upper ? this.d.mac.toUpperCase() : this.d.mac, this.d.mac);
  androidId = () => this.plain('android_id', this.d.androidId, this.d.androidId, this.d.androidId);
  gaid = () => this.plain('advertising_id', this.d.gaid, this.d.gaid, this.d.gaid);
  email = () => this.plain('email', this.d.email, this.d.email, this.d.email);
  phone = (written = e164(this.d.phone)) => this.plain('phone_number', this.d.phone, written, e164(this.d.phone));
  /** what only pattern rules report, known device or not (no known value of this type exists) */
  patternOnly<T extends string>(type: IdentifierType, value: string, written: T): T {
    this.labels.push({ type, value, confidence: 'pattern' });
    return written;
  }
  location = () => {
    const value = `${Number(this.d.lat)},${Number(this.d.lon)}`;
    this.plain('location', value, '', value);
    return { lat: Number(this.d.lat), lon: Number(this.d.lon) };
  };
}

const UA = [
  'Dalvik/2.1.0 (Linux; U; Android 13; Pixel 7 Build/TQ3A.230805.001)',
  'okhttp/4.12.0',
  'Mozilla/5.0 (Linux; Android 10; M2006C3LG) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36',
  'CFNetwork/1410.0.3 Darwin/22.6.0',
];
const baseHeaders = () => ({ 'user-agent': pick(UA), 'accept-encoding': 'gzip', 'x-request-id': uuid() });
const ts = () => String(1_700_000_000_000 + int(50_000_000_000));
const json = (v: unknown) => Buffer.from(JSON.stringify(v));

type Wire = { method: string; url: string; headers: Record<string, string>; body?: Buffer };
type Template = (b: Builder) => Wire;

const TEMPLATES: Record<string, Template> = {
  'umeng-analytics': (b) => ({
    method: 'POST',
    url: 'https://ulogs.umeng.com/unify_logs',
    headers: { ...baseHeaders(), 'content-type': 'application/json', 'content-encoding': 'gzip' },
    body: gzipSync(
      json({
        header: { appkey: hex(24), device_model: 'M2006C3LG', os_version: '10', imei: b.imei(), mc: b.mac(), android_id: b.androidId(), resolution: '720*1600', ts: ts() },
        analytics: { sessions: [{ id: hex(32).toUpperCase(), start_time: ts(), duration: int(600000) }] },
      }),
    ),
  }),
  'openrtb-ad-request': (b) => ({
    method: 'POST',
    url: `https://bid.adexchange.example/openrtb2/auction?pub=${int(99999)}`,
    headers: { ...baseHeaders(), 'content-type': 'application/json' },
    body: json({
      id: uuid(),
      imp: [{ id: '1', banner: { w: 320, h: 50 }, bidfloor: 0.015 }],
      app: { bundle: 'com.example.game', ver: '3.2.1' },
      device: {
        ifa: b.gaid(),
        didsha1: b.hidden('imei', b.d.imei, hash('sha1', b.d.imei)),
        didmd5: b.hidden('imei', b.d.imei, hash('md5', b.d.imei)),
        macsha1: b.hidden('mac_address', b.d.mac, hash('sha1', b.d.mac.toUpperCase())),
        geo: { ...b.location(), type: 1 },
        os: 'android',
        carrier: '46000',
      },
      user: { id: hex(32) },
    }),
  }),
  'appsflyer-launch': (b) => ({
    method: 'POST',
    url: `https://launches.appsflyer.com/api/v6.9/androidevent?app_id=com.example.shop&buildnumber=6.9.2`,
    headers: { ...baseHeaders(), 'content-type': 'application/json' },
    body: json({
      advertiserId: b.gaid(),
      advertiserIdEnabled: 'true',
      af_timestamp: ts(),
      deviceData: { build_display_id: 'TQ3A.230805.001', arch: 'arm64', dim: { size: '2', xdp: '409.432' } },
      imei: b.imei(),
      android_id: b.androidId(),
      uid: `${ts()}-${digits(19)}`,
      counter: String(int(40)),
    }),
  }),
  'jpush-register': (b) => ({
    method: 'POST',
    url: 'https://tsis.jpush.cn/v3/register',
    headers: { ...baseHeaders(), 'content-type': 'application/x-www-form-urlencoded' },
    body: Buffer.from(
      `app_key=${hex(24)}&platform=a&imei=${b.imei()}&imsi=${b.imsi()}&iccid=${b.iccid()}` +
        `&mac=${encodeURIComponent(b.mac(true))}&device_id_md5=${b.hidden('android_id', b.d.androidId, hash('md5', b.d.androidId))}&sdk_ver=4.8.5`,
    ),
  }),
  'xiaomi-push-query': (b) => ({
    method: 'GET',
    url:
      `https://register.xmpush.xiaomi.com/pass/v2/register?appid=${digits(16)}&imei_md5=${b.hidden('imei', b.d.imei, hash('md5', b.d.imei))}` +
      `&android_id=${b.androidId()}&mac=${encodeURIComponent(b.mac())}&ts=${ts()}`,
    headers: baseHeaders(),
  }),
  'telemetry-query': (b) => ({
    method: 'GET',
    url: `https://log.tbs.qq.com/ajax?c=dl&imsi=${b.imsi()}&imei=${b.imei()}&phone=${encodeURIComponent(b.phone(b.d.phone))}&t=${ts()}`,
    headers: baseHeaders(),
  }),
  'header-device-id': (b) => ({
    method: 'GET',
    url: `https://api.shop.example.cn/v2/feed?page=${int(20)}`,
    headers: {
      ...baseHeaders(),
      'x-device-imei': b.imei(),
      'x-android-id': b.androidId(),
      cookie: `sid=${hex(32)}; gaid=${b.gaid()}; _ga=GA1.2.${digits(9)}.${digits(10)}`,
    },
  }),
  'base64-gzip-blob': (b) => ({
    method: 'POST',
    url: 'https://sdk.analytics.example.cn/collect',
    headers: { ...baseHeaders(), 'content-type': 'application/x-www-form-urlencoded' },
    body: Buffer.from(
      `v=2&data=${encodeURIComponent(b64(gzipSync(json({ dev: { imei: b.imei(), sn: b.hidden('serial_number', b.d.serial, b.d.serial), mail: b.email() }, ev: 'start', ts: ts() }))))}`,
    ),
  }),
  'json-in-json-string': (b) => ({
    method: 'POST',
    url: 'https://track.example.com/v1/batch',
    headers: { ...baseHeaders(), 'content-type': 'application/json' },
    body: json({
      batch_id: uuid(),
      payload: JSON.stringify({ ctx: { device: { meid: b.meid(), iccid: b.iccid() }, sim: { operator: '46000' } }, events: [{ n: 'open', t: ts() }] }),
    }),
  }),
  'contact-upload': (b) => {
    const people = b.known ? b.d.contacts.slice(0, 3 + int(3)) : Array.from({ length: 5 }, () => ({ name: pick(GIVEN), phone: cnMobile(), email: '' }));
    return {
      method: 'POST',
      url: 'https://friends.social.example/api/contacts/sync',
      headers: { ...baseHeaders(), 'content-type': 'application/json' },
      body: json({
        owner: b.hidden('phone_number', b.d.phone, e164(b.d.phone)),
        contacts: people.map((p) => ({
          name: p.name,
          phones: [b.known ? b.hidden('contact', p.phone, p.phone) : b.plain('phone_number', '', p.phone, e164(p.phone))],
          ...(p.email ? { emails: [b.hidden('contact', p.email, p.email)] } : {}),
        })),
      }),
    };
  },
  'contact-vcard-multipart': (b) => {
    const people = b.known ? b.d.contacts.slice(0, 4) : [];
    const cards = people
      .map((p) => `BEGIN:VCARD\r\nVERSION:3.0\r\nFN:${p.name}\r\nTEL;TYPE=CELL:${b.hidden('contact', p.phone, p.phone)}\r\nEND:VCARD`)
      .join('\r\n');
    const boundary = `----${hex(16)}`;
    return {
      method: 'POST',
      url: 'https://backup.cloud.example.cn/upload',
      headers: { ...baseHeaders(), 'content-type': `multipart/form-data; boundary=${boundary}` },
      body: Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="meta"\r\n\r\n${JSON.stringify({ serial: b.hidden('serial_number', b.d.serial, b.d.serial), imei: b.imei() })}\r\n` +
          `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="contacts.vcf"\r\nContent-Type: text/vcard\r\n\r\n${cards}\r\n--${boundary}--\r\n`,
      ),
    };
  },
  'sms-backup': (b) => ({
    method: 'POST',
    url: 'https://sync.smsbackup.example/v3/messages',
    headers: { ...baseHeaders(), 'content-type': 'application/json', 'content-encoding': 'gzip' },
    body: gzipSync(
      json({
        device: b.hidden('android_id', b.d.androidId, b.d.androidId),
        messages: (b.known ? b.d.sms : ['hello']).map((text) => ({ address: pick(['10086', '95588', '1069']), body: b.known ? b.hidden('sms', text, text) : text, date: ts(), type: 1 })),
      }),
    ),
  }),
  'sms-otp-forward-query': (b) => {
    const text = b.known ? b.d.sms[int(3)] : 'hello there';
    return {
      method: 'GET',
      url: `https://otp.relay.example/f?msg=${encodeURIComponent(b.known ? b.hidden('sms', text, text) : text)}&n=${digits(4)}`,
      headers: baseHeaders(),
    };
  },
  'xml-soap': (b) => ({
    method: 'POST',
    url: 'https://mdm.vendor.example/soap/DeviceInfo',
    headers: { ...baseHeaders(), 'content-type': 'text/xml; charset=utf-8' },
    body: Buffer.from(
      `<?xml version="1.0"?><Envelope><Body><DeviceInfo><IMSI>${b.imsi()}</IMSI><MSISDN>${b.phone()}</MSISDN>` +
        `<WifiMac>${b.mac()}</WifiMac><Model>SM-A525F</Model><Uptime>${ts()}</Uptime></DeviceInfo></Body></Envelope>`,
    ),
  }),
  'protobuf-binary': (b) => {
    const field = (tag: number, s: string) => Buffer.concat([Buffer.from([(tag << 3) | 2, Buffer.byteLength(s)]), Buffer.from(s)]);
    return {
      method: 'POST',
      url: 'https://firebaselogging-pa.googleapis.com/v1/firelog/legacy/batchlog',
      headers: { ...baseHeaders(), 'content-type': 'application/x-protobuf' },
      body: Buffer.concat([Buffer.from([0x08, 0x96, 0x01]), field(2, b.imei()), Buffer.from([0x18, 0xac, 0x02]), field(4, 'com.example.app'), field(5, b.hidden('advertising_id', b.d.gaid, b.d.gaid))]),
    };
  },
  'location-report': (b) => {
    const { lat, lon } = b.location();
    return {
      method: 'POST',
      url: 'https://lbs.maps.example.cn/v1/report',
      headers: { ...baseHeaders(), 'content-type': 'application/x-www-form-urlencoded' },
      body: Buffer.from(`latitude=${lat}&longitude=${lon}&accuracy=${int(50)}.0&time=${ts()}&cellid=${digits(8)}`),
    };
  },
  'hashed-identity': (b) => ({
    method: 'POST',
    url: 'https://api.adjust.example/session',
    headers: { ...baseHeaders(), 'content-type': 'application/json' },
    body: json({
      hashed_email: b.hidden('email', b.d.email, hash('sha256', b.d.email)),
      phone_sha256: b.hidden('phone_number', b.d.phone, hash('sha256', e164(b.d.phone))),
      imsi_b64: b.plain('imsi', b.d.imsi, b64(b.d.imsi), b.d.imsi),
      ssid_hex: b.plain('mac_address', b.d.mac, Buffer.from(b.d.mac).toString('hex'), b.d.mac),
      created_at: ts(),
    }),
  }),
  'websocket-style-text': (b) => ({
    method: 'POST',
    url: 'https://im.chat.example/gateway',
    headers: { ...baseHeaders(), 'content-type': 'text/plain' },
    body: Buffer.from(`HELLO ver=3 token=${hex(40)} user=${b.email()} tel=${b.hidden('phone_number', b.d.phone, b.d.phone.replace(/\s/g, '-'))}`),
  }),
};

/** Requests that look dangerous and carry no identifier at all. */
const NEGATIVES_TEMPLATES: Record<string, () => Wire> = {
  'timestamps-and-orders': () => ({
    method: 'POST',
    url: 'https://api.shop.example.cn/v1/order/confirm',
    headers: { ...baseHeaders(), 'content-type': 'application/json' },
    body: json({ order_id: `2024${digits(11)}`, ts: Number(`17${digits(13)}`), created_at: `${ts()}${digits(2)}`, amount: '129.900', sku: digits(15), trace_id: hex(32) }),
  }),
  'luhn-invalid-ids': () => ({
    method: 'GET',
    url: `https://cdn.example.com/a?id=${luhnBroken15(pick(['86', '35']))}&uid=${luhnBroken15('46')}&n=${digits(19)}`,
    headers: baseHeaders(),
  }),
  'random-uuids-and-hashes': () => ({
    method: 'POST',
    url: 'https://events.example.io/track',
    headers: { ...baseHeaders(), 'content-type': 'application/json', 'x-trace': uuid() },
    body: json({ event_id: uuid(), session: hex(16), install_id: uuid(), checksum: hash('md5', hex(8)), sig: hash('sha256', hex(8)), build: hex(12), commit: hex(40) }),
  }),
  'coarse-location-and-versions': () => ({
    method: 'GET',
    url: `https://weather.example.com/v2/forecast?lat=${(20 + rand() * 20).toFixed(1)}&lon=${(100 + rand() * 20).toFixed(2)}&v=10.4.${int(99)}&build=${digits(10)}`,
    headers: baseHeaders(),
  }),
  'prices-and-counters': () => ({
    method: 'POST',
    url: 'https://pay.example.cn/quote',
    headers: { ...baseHeaders(), 'content-type': 'application/x-www-form-urlencoded' },
    body: Buffer.from(`price=${(rand() * 1000).toFixed(4)}&rate=${(rand() * 10).toFixed(5)}&seq=${digits(15)}&nonce=${hex(16)}&time=${ts()}`),
  }),
  'gzip-telemetry-clean': () => ({
    method: 'POST',
    url: 'https://perf.example.com/v1/metrics',
    headers: { ...baseHeaders(), 'content-type': 'application/json', 'content-encoding': 'gzip' },
    body: gzipSync(json({ metrics: Array.from({ length: 20 }, () => ({ name: pick(['fps', 'cpu', 'mem']), v: rand() * 100, t: Number(ts()) })), app: { ver: '5.1.0', id: uuid() } })),
  }),
  'base64-random-blob': () => ({
    method: 'POST',
    url: 'https://sync.example.net/state',
    headers: { ...baseHeaders(), 'content-type': 'application/json' },
    body: json({ state: b64(Buffer.from(Array.from({ length: 64 }, () => int(256)))), etag: hex(32), v: 3 }),
  }),
  'lookalike-traps': () => ({
    method: 'POST',
    url: `https://ads.example.com/v3/adunit?placement=${uuid()}&retina=icon@2x.png`,
    headers: { ...baseHeaders(), 'content-type': 'application/json', 'x-device-model': 'SM-G9910' },
    body: json({
      uid: luhnBroken15(pick(['310', '460', '234'])),
      adunit_id: uuid(),
      request_id: hex(16),
      clock: `${int(24)}:${int(60)}:${int(60)}:${int(99)}`,
      ipv6: `fe80::${hex(4)}:${hex(4)}:${hex(4)}:${hex(4)}`,
      asset: `https://cdn.example.com/img/banner@3x.webp?v=${digits(15)}`,
      phone_model: `Redmi Note ${int(13)}`,
      contact_count: int(900),
    }),
  }),
  'html-form-login-ish': () => ({
    method: 'POST',
    url: 'https://m.example.com/search',
    headers: { ...baseHeaders(), 'content-type': 'application/x-www-form-urlencoded', cookie: `JSESSIONID=${hex(32).toUpperCase()}; lang=zh_CN` },
    body: Buffer.from(`q=${encodeURIComponent(pick(['iphone 15', 'xiaomi 14', 'cheap flights']))}&page=${int(9)}&ts=${ts()}`),
  }),
};

function toRequest(id: number, template: string, wire: Wire, labels: Label[]): CorpusRequest {
  const unique = new Map(labels.map((l) => [`${l.type}|${l.value}|${l.confidence}`, l]));
  return { id, template, method: wire.method, url: wire.url, headers: wire.headers, ...(wire.body ? { body: wire.body.toString('base64') } : {}), labels: [...unique.values()] };
}

const requests: CorpusRequest[] = [];
const templateNames = Object.keys(TEMPLATES);
for (let i = 0; i < POSITIVES; i++) {
  const known = i % 5 < 3;
  const b = new Builder(known ? KNOWN[i % KNOWN.length] : device('unlisted', 80), known);
  const name = templateNames[i % templateNames.length];
  requests.push(toRequest(requests.length, name, TEMPLATES[name](b), b.labels));
}
const negativeNames = Object.keys(NEGATIVES_TEMPLATES);
for (let i = 0; i < NEGATIVES; i++) {
  const name = negativeNames[i % negativeNames.length];
  requests.push(toRequest(requests.length, `negative:${name}`, NEGATIVES_TEMPLATES[name](), []));
}

// ---- Detection depth (issue 15): appended after the cases above, which they leave byte for byte as they were.

const DEPTH_ROUNDS = 8;
const NEGATIVE_DEPTH_ROUNDS = 6;
const varint = (w: protobuf.Writer, field: number, v: string) => w.uint32((field << 3) | 0).uint64(v);
const str = (w: protobuf.Writer, field: number, v: string) => w.uint32((field << 3) | 2).string(v);
const dbl = (w: protobuf.Writer, field: number, v: number) => w.uint32((field << 3) | 1).double(v);
const msg = (w: protobuf.Writer, field: number, m: Uint8Array) => w.uint32((field << 3) | 2).bytes(m);
const finish = (w: protobuf.Writer) => Buffer.from(w.finish());
const jwt = (claims: object) =>
  `${Buffer.from(JSON.stringify({ alg: 'RS256', kid: hex(8) })).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${b64(hex(32)).replace(/=+$/, '')}`;
/** Hex as Java's Integer.toHexString(b & 0xff) per byte writes it: no leading zeros. */
const javaHex = (alg: string, s: string) => [...createHash(alg).update(s).digest()].map((x) => x.toString(16)).join('');
const datum = (d: DeviceValues, to: 'GCJ02' | 'BD09') => {
  const [lon, lat] = gcoord.transform([Number(d.lon), Number(d.lat)], gcoord.WGS84, gcoord[to]);
  return { lat: lat.toFixed(6), lon: lon.toFixed(6) };
};
const PACKAGES = ['com.whatsapp', 'com.tencent.mm', 'org.telegram.messenger', 'com.alibaba.android.rimet', 'com.ss.android.ugc.aweme', 'com.sina.weibo', 'cn.wps.moffice_eng', 'com.taobao.taobao', 'com.netease.cloudmusic', 'in.amazon.mShop.android.shopping', 'com.spotify.music', 'org.mozilla.firefox'];

const DEPTH_TEMPLATES: Record<string, Template> = {
  'firebase-protobuf': (b) => {
    const device = protobuf.Writer.create();
    str(device, 1, 'Pixel 7');
    dbl(device, 4, Number(b.hidden('location', `${Number(b.d.lat)},${Number(b.d.lon)}`, b.d.lat)));
    dbl(device, 5, Number(b.d.lon));
    const w = protobuf.Writer.create();
    varint(w, 1, ts());
    varint(w, 2, b.imei());
    w.uint32((3 << 3) | 1).fixed64(BigInt(`0x${b.hidden('android_id', b.d.androidId, b.d.androidId)}`).toString());
    str(w, 6, 'com.example.app');
    msg(w, 7, finish(str(protobuf.Writer.create(), 19, b.hidden('advertising_id', b.d.gaid, b.d.gaid))));
    msg(w, 8, device.finish());
    return { method: 'POST', url: 'https://app-measurement.example.com/a', headers: { ...baseHeaders(), 'content-type': 'application/x-protobuf' }, body: finish(w) };
  },
  'grpc-gzip-frames': (b) => {
    const m = protobuf.Writer.create();
    varint(m, 1, b.imsi());
    str(m, 2, b.email());
    const zipped = gzipSync(finish(m));
    const head = Buffer.from([1, 0, 0, 0, 0]);
    head.writeUInt32BE(zipped.length, 1);
    return { method: 'POST', url: 'https://device-sync.example.com/sync.v1.Device/Report', headers: { ...baseHeaders(), 'content-type': 'application/grpc', 'grpc-encoding': 'gzip', te: 'trailers' }, body: Buffer.concat([head, zipped]) };
  },
  'jwt-id-token': (b) => ({
    method: 'GET',
    url: `https://identitytoolkit.example.com/v1/accounts:lookup?key=${hex(20)}`,
    headers: { ...baseHeaders(), authorization: `Bearer ${jwt({ iss: 'https://securetoken.example.com/proj', sub: hex(28), email: b.email(), phone_number: b.phone(), iat: Number(ts().slice(0, 10)) })}` },
  }),
  'prefixed-ids': (b) => ({
    method: 'POST',
    url: 'https://ads.sdk.example.com/v2/init',
    headers: { ...baseHeaders(), 'content-type': 'application/json' },
    body: json({ uid: `ifa:${b.plain('advertising_id', b.d.gaid, b.d.gaid.toUpperCase(), b.d.gaid)}`, hw: `imei:${b.imei()}`, net: `mac:${b.mac(true)}`, ts: ts() }),
  }),
  'hash-variants': (b) => ({
    method: 'POST',
    url: 'https://audience.measure.example/v1/hit',
    headers: { ...baseHeaders(), 'content-type': 'application/json' },
    body: json({
      d1: b.hidden('imei', b.d.imei, javaHex('md5', b.d.imei)),
      d2: b.hidden('android_id', b.d.androidId, javaHex('sha1', b.d.androidId)),
      em: b.hidden('email', b.d.email, createHash('sha256').update(b.d.email.toUpperCase()).digest('hex')),
      mh: b.hidden('mac_address', b.d.mac, javaHex('md5', b.d.mac.toUpperCase())),
      t: ts(),
    }),
  }),
  'gcj02-bd09-location': (b) => {
    const gcj = datum(b.d, 'GCJ02');
    const bd = datum(b.d, 'BD09');
    const value = `${Number(b.d.lat)},${Number(b.d.lon)}`;
    // Unlisted devices: pattern rules see the coordinates as written, in whatever datum.
    if (b.known) b.plain('location', value, '');
    else b.labels.push({ type: 'location', value: `${gcj.lat},${gcj.lon}`, confidence: 'pattern' }, { type: 'location', value: `${bd.lat},${bd.lon}`, confidence: 'pattern' });
    return {
      method: 'POST',
      url: 'https://restapi.lbs.example.cn/v3/geocode/regeo',
      headers: { ...baseHeaders(), 'content-type': 'application/json' },
      body: json({ amap: { lat: gcj.lat, lng: gcj.lon }, baidu: { latitude: bd.lat, longitude: bd.lon }, coordtype: 'gcj02ll' }),
    };
  },
  'wifi-scan': (b) => {
    const home = homeWifi(b.d);
    const others = Array.from({ length: 3 }, () => mac());
    const list = [
      { ssid: b.known ? b.hidden('wifi', home.ssid, home.ssid) : `Net-${hex(4)}`, bssid: b.known ? b.hidden('wifi', home.bssid, home.bssid) : b.patternOnly('wifi', others[0].replace(/^../, 'b4'), others[0].replace(/^../, 'b4')), rssi: -40 - int(40) },
      ...others.map((m) => ({ ssid: `AP-${hex(4)}`, bssid: b.patternOnly('wifi', m, m), rssi: -50 - int(40) })),
    ];
    return {
      method: 'POST',
      url: 'https://loc.sdk.example.cn/v1/wifi',
      headers: { ...baseHeaders(), 'content-type': 'application/json' },
      body: json({ wifi_mac: b.mac(), wifi_list: list, ts: ts() }),
    };
  },
  'installed-apps': (b) => {
    const apps = PACKAGES.slice(0, 5 + int(PACKAGES.length - 4));
    // the app's own package is installed too, and comes first
    b.patternOnly('installed_apps', ['com.example.shop', ...apps].join(','), '');
    return {
      method: 'POST',
      url: 'https://appinfo.sdk.example.cn/v1/report',
      headers: { ...baseHeaders(), 'content-type': 'application/json' },
      body: json({ device_id: b.androidId(), self: 'com.example.shop', apps: apps.map((pkg) => ({ pkg, ver: `${int(10)}.${int(10)}` })) }),
    };
  },
  'form-without-content-type': (b) => ({
    method: 'POST',
    url: 'https://stat.sdk.example.com/c',
    headers: { ...baseHeaders(), 'content-type': pick(['text/plain', 'application/octet-stream']) },
    body: Buffer.from(`data=${encodeURIComponent(b64(JSON.stringify({ did: b.hidden('android_id', b.d.androidId, hash('sha256', b.d.androidId)), os: 'android' })))}`),
  }),
};

const DEPTH_NEGATIVES: Record<string, () => Wire> = {
  'protobuf-clean': () => {
    const w = protobuf.Writer.create();
    varint(w, 1, ts());
    varint(w, 2, String(int(1e6)));
    str(w, 3, hex(16));
    str(w, 4, '5.12.0');
    dbl(w, 5, rand() * 1000);
    msg(w, 6, finish(varint(protobuf.Writer.create(), 1, `2024${digits(11)}`)));
    return { method: 'POST', url: 'https://perf.example.com/v2/log', headers: { ...baseHeaders(), 'content-type': 'application/x-protobuf' }, body: finish(w) };
  },
  'jwt-session-clean': () => ({
    method: 'GET',
    url: 'https://api.example.com/v1/me',
    headers: { ...baseHeaders(), authorization: `Bearer ${jwt({ sub: uuid(), sid: hex(16), iat: Number(ts().slice(0, 10)), exp: Number(ts().slice(0, 10)) })}` },
  }),
  'four-packages-and-hosts': () => ({
    method: 'POST',
    url: 'https://config.example.com/v1/fetch',
    headers: { ...baseHeaders(), 'content-type': 'application/json' },
    body: json({
      app: 'com.example.shop',
      installer: 'com.android.vending',
      deps: ['com.google.android.gms', 'com.google.firebase.messaging'],
      hosts: ['cn.bing.com', 'de.ioam.de', 'in.appcenter.ms', 'us.cdn.example.com'],
      crash: 'at com.example.shop.ui.CartFragment.onResume(CartFragment.java:42)\n at com.example.shop.MainActivity.onCreate(MainActivity.java:10)',
      classes: ['com.google.gson.Gson', 'com.squareup.okhttp3.OkHttpClient', 'org.json.JSONObject'],
    }),
  }),
  'cell-towers': () => ({
    method: 'POST',
    url: 'https://lbs.example.cn/v1/cell',
    headers: { ...baseHeaders(), 'content-type': 'application/json' },
    body: json({ mcc: '460', mnc: '00', cells: [{ cell_id: digits(9), lac: digits(5) }, { cellId: `+86${digits(9)}`, tac: digits(5) }], cell: { cid: digits(10) } }),
  }),
  'prefix-and-wifi-lookalikes': () => ({
    method: 'POST',
    url: 'https://ads.example.com/v1/state',
    headers: { ...baseHeaders(), 'content-type': 'application/json' },
    body: json({ a: 'ifa:unavailable', b: 'imei:000000000000000', c: `session:${uuid()}`, wifi: { ssid: `Cafe-${hex(4)}`, rssi: -61, freq: 2412, state: 'connected' }, mac: 'mac:02:00:00:00:00:00' }),
  }),
  'hashes-of-other-values': () => ({
    method: 'POST',
    url: 'https://audience.measure.example/v1/hit',
    headers: { ...baseHeaders(), 'content-type': 'application/json' },
    body: json({ d1: javaHex('md5', luhn15('86')), d2: javaHex('sha1', hex(16)), em: hash('sha256', `NOBODY${hex(4)}@EXAMPLE.ORG`), t: ts() }),
  }),
};

const depthNames = Object.keys(DEPTH_TEMPLATES);
for (let round = 0; round < DEPTH_ROUNDS; round++) {
  for (const name of depthNames) {
    const known = round % 4 < 3;
    const b = new Builder(known ? KNOWN[round % KNOWN.length] : device('unlisted', 80), known);
    requests.push(toRequest(requests.length, name, DEPTH_TEMPLATES[name](b), b.labels));
  }
}
for (let round = 0; round < NEGATIVE_DEPTH_ROUNDS; round++) {
  for (const [name, make] of Object.entries(DEPTH_NEGATIVES)) requests.push(toRequest(requests.length, `negative:${name}`, make(), []));
}

// Appended last, so every case above stays byte for byte: app-assigned user ids that read as an IMSI by their
// digits alone (a major network's MCC and MNC, 15 digits, no IMEI check digit) under keys naming the user's account.
const USER_ID_ROUNDS = 6;
for (let round = 0; round < USER_ID_ROUNDS; round++) {
  const wire: Wire = {
    method: 'POST',
    url: 'https://api.example.com/v2/session',
    headers: { ...baseHeaders(), 'content-type': 'application/json' },
    body: json({ uid: luhnBroken15(pick(['310410', '46000', '23410'])), account: { userId: luhnBroken15(pick(['310260', '46001'])), member_id: luhnBroken15('26201') }, ts: ts() }),
  };
  requests.push(toRequest(requests.length, 'negative:imsi-lookalike-user-ids', wire, []));
}

writeFileSync(new URL('../test/fixtures/corpus-identifiers.json', import.meta.url), `${JSON.stringify(identifiers, null, 2)}\n`);
writeFileSync(new URL('../test/fixtures/corpus.json', import.meta.url), `${JSON.stringify(requests)}\n`);
const negatives = requests.filter((r) => r.labels.length === 0).length;
console.log(`wrote ${requests.length} requests (${negatives} without identifiers) over ${templateNames.length + depthNames.length} templates`);
