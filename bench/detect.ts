// Detection throughput with 50 and with 1,000 known identifiers loaded, over three corpora:
//  - small: the labelled corpus (464 requests of ~460 bytes, as apps send them);
//  - large: telemetry batches of 10–100 KiB of JSON (some gzip-encoded), as analytics SDKs upload them;
//  - protobuf: batches of 4–40 KiB of protobuf events (app-measurement style), decoded without a schema.
// Also what tracker attribution (trackhar) costs per flow, for a tracker's endpoint and for any other host.
// Bytes are counted as on the wire: URL + headers (`name: value\r\n`) + body as sent (compressed if it was).
// Each corpus is timed with 50 identifiers, with 1,000 and only parsed, the three taking turns pass by pass
// after a warm-up; each reports its median pass: other work on a shared machine slows some passes, rarely the
// middle one, and it slows the three alike.
//   node --import tsx bench/detect.ts
import { brotliDecompressSync, gunzipSync, gzipSync, inflateSync } from 'node:zlib';
import { pathToFileURL } from 'node:url';
import protobuf from 'protobufjs/minimal.js';
import { createDetector, type ScanInput } from '../proxy/detect';
import { protobufFields, type ProtoField } from '../proxy/detect/decode/protobuf';
import { createTrackerAttributor } from '../proxy/trackers/attribute';
import { VALUE_FIELDS, type Identifiers } from '../shared/identifiers';
import { luhnCheckDigit } from '../proxy/detect/patterns/validators';
import { hostileBodies } from './hostile-bodies';
import { median } from './stats';
import { loadCorpus, toInput } from '../test/detect/corpus-eval';
import { seededRandom } from '../test/helpers/seeded-random';
import { compareWithBaseline } from './detect-baseline';

export interface CorpusThroughput {
  bytes: number;
  requests: number;
  mbPerSecond50: number;
  mbPerSecond1000: number;
  /** 1,000-identifier throughput over 50-identifier throughput (target ≥ 0.8) */
  ratio: number;
  /**
   * MB/s of only reading the same requests, finding nothing: URL and query parsed, headers walked, body
   * inflated, decoded and given to JSON.parse or URLSearchParams. No detector can beat it by much.
   */
  parseOnlyMbPerSecond: number;
}

export interface HostileBody {
  name: string;
  kib: number;
  /** median ms to scan it, 50 identifiers loaded */
  ms: number;
  /** that, over the time an ordinary MiB of telemetry batches takes in the same run */
  perMibRatio: number;
}

export interface TrackerCost {
  /** ms of the first attribution in the process: loading trackhar and its 123 adapters */
  loadMs: number;
  /** median µs per flow to a tracker's endpoint (adapter matched, request decoded, fields read) */
  trackerFlowUs: number;
  /** median µs per flow to a host no adapter knows (the host check alone) */
  otherFlowUs: number;
}

export interface DetectionBench extends CorpusThroughput {
  /** the small corpus's size; `bytes` is the same number */
  corpusBytes: number;
  /** ms to build the matcher for 1,000 identifiers */
  buildMs1000: number;
  /** 10–100 KiB telemetry batches */
  large: CorpusThroughput;
  /** bodies made to make detection work hard, slowest first */
  hostile: HostileBody[];
  /** protobuf batches; `parseOnlyMbPerSecond` here is the schema-less decoding alone */
  protobuf: CorpusThroughput;
  trackers: TrackerCost;
}

const WARM_UP_SECONDS = 1;
const MEASURE_SECONDS = 3;

type Values = Omit<Identifiers['devices'][number], 'name'>;

/** Counts the values of an identifiers file (contacts count once per phone and e-mail). */
function countValues(ids: Identifiers): number {
  return ids.devices.reduce((n, d) => {
    const lists = VALUE_FIELDS.map((k) => d[k]);
    return n + lists.reduce((m, l) => m + l.length, 0) + d.contacts.reduce((m, c) => m + c.phone.length + c.email.length, 0) + d.location.length;
  }, 0);
}

/** The first `total` values of `ids`, in file order. */
function firstValues(ids: Identifiers, total: number): Identifiers {
  let left = total;
  const take = <T>(list: T[]): T[] => {
    const kept = list.slice(0, Math.max(0, left));
    left -= kept.length;
    return kept;
  };
  return {
    devices: ids.devices.map((d) => {
      const device = { ...d };
      for (const k of VALUE_FIELDS) device[k] = take(d[k]);
      device.contacts = d.contacts
        .map((c) => ({ ...c, phone: take(c.phone), email: take(c.email) }))
        .filter((c) => c.phone.length + c.email.length > 0);
      device.location = take(d.location);
      return device;
    }),
  };
}

/** Exactly `total` values: the corpus devices' first ones, then made-up devices (deterministic). */
export function identifiersWith(base: Identifiers, total: number): Identifiers {
  if (countValues(base) >= total) return firstValues(base, total);
  const devices = [...base.devices];
  let missing = total - countValues(base);
  for (let i = 0; missing > 0; i++) {
    const n = String(i).padStart(6, '0');
    const imeiBody = `3599${n}1234`;
    const values = {
      imei: [imeiBody + luhnCheckDigit(imeiBody)],
      imsi: [`310260${n}999`],
      phone_number: [`+1 415 55${n.slice(2, 3)} ${n.slice(-4)}`],
      android_id: [`f00d${n}cafe00`],
      advertising_id: [`${n}aa-1111-4222-8333-${n}444444`],
      mac_address: [`0c:${n.slice(0, 2)}:${n.slice(2, 4)}:${n.slice(4, 6)}:aa:bb`],
      email: [`filler${n}@example.net`],
      serial_number: [`FILL${n}`],
    };
    const take = Math.min(missing, Object.keys(values).length);
    const entries = Object.entries(values).slice(0, take);
    missing -= take;
    const empty: Values = { imei: [], meid: [], imsi: [], iccid: [], phone_number: [], android_id: [], advertising_id: [], mac_address: [], serial_number: [], email: [], contacts: [], sms: [], location: [], wifi: [] };
    devices.push({ name: `filler ${i}`, ...empty, ...Object.fromEntries(entries) });
  }
  return { devices };
}

/** Bytes of a request as sent: URL, `name: value\r\n` per header value, body. */
export function wireBytes(input: ScanInput): number {
  let n = input.url.length + (input.body?.length ?? 0);
  for (const [k, v] of Object.entries(input.headers)) {
    for (const value of Array.isArray(v) ? v : [v]) n += k.length + value.length + 4;
  }
  return n;
}


/**
 * Analytics uploads: a header block naming the device (with the corpus device's identifiers, some hashed or
 * base64, as SDKs send them) and a batch of events with timestamps, ids, screen names, numbers, nested props.
 * 10–100 KiB each, a third gzip-encoded. Seeded: the same batches every run.
 */
export function telemetryBatches(ids: Identifiers, count = 24): ScanInput[] {
  const rand = seededRandom(0x7e1e);
  const int = (n: number) => Math.floor(rand() * n);
  const hex = (n: number) => Array.from({ length: n }, () => '0123456789abcdef'[int(16)]).join('');
  const uuid = () => `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`;
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  const screens = ['Home', 'Search', 'ProductDetail', 'Cart', 'Checkout', 'Settings', 'Profile', 'Feed', 'VideoPlayer'];
  const events = ['screen_view', 'tap', 'scroll', 'impression', 'ad_request', 'ad_click', 'purchase', 'app_background', 'perf_trace'];
  const inputs: ScanInput[] = [];
  for (let b = 0; b < count; b++) {
    const device = ids.devices[b % ids.devices.length];
    const target = (10 + int(91)) * 1024;
    const session = uuid();
    const header = {
      sdk: { name: pick(['firebase', 'umeng', 'appsflyer', 'adjust']), version: `${int(10)}.${int(20)}.${int(100)}` },
      app: { bundle: 'com.example.shop', version: '5.12.0', build: 5120 + int(10) },
      device: {
        model: pick(['Pixel 7', 'Redmi Note 12', 'SM-G991B']),
        os: 'Android 13',
        locale: 'en_US',
        screen: '1080x2400',
        // a third of the batches leak, each in its own way
        ...(b % 3 === 0 ? { android_id: device.android_id[0] ?? hex(16), gaid: device.advertising_id[0] ?? uuid() } : {}),
        ...(b % 3 === 1 ? { imei_md5: hex(32), ext: Buffer.from(JSON.stringify({ mac: device.mac_address[0] ?? '' })).toString('base64') } : {}),
      },
      session,
      sent_at: 1_700_000_000_000 + int(1e9),
    };
    const batch: unknown[] = [];
    let size = JSON.stringify(header).length;
    let ts = header.sent_at - 3_600_000;
    while (size < target) {
      ts += int(5000);
      const event = {
        name: pick(events),
        ts,
        seq: batch.length,
        event_id: uuid(),
        props: {
          screen: pick(screens),
          duration_ms: int(20000),
          item_id: `sku_${int(1e6)}`,
          price: Number((rand() * 100).toFixed(2)),
          position: int(40),
          experiment: pick(['ctrl', 'var_a', 'var_b']),
          network: pick(['wifi', '4g', '5g']),
          battery: Number(rand().toFixed(2)),
          referrer: pick(['', 'push', 'deeplink://promo/summer?utm_source=push&utm_campaign=s24']),
        },
      };
      size += JSON.stringify(event).length + 1;
      batch.push(event);
    }
    const json = Buffer.from(JSON.stringify({ header, events: batch }));
    const gzip = b % 3 === 2;
    inputs.push({
      method: 'POST',
      url: `https://${pick(['app-measurement.example.com/a', 'alog.umeng.example/app_logs', 'events.appsflyer.example/api/v6.5/androidevent'])}?app_id=com.example.shop&v=3`,
      headers: {
        'user-agent': 'Dalvik/2.1.0 (Linux; U; Android 13; Pixel 7 Build/TQ3A.230805.001)',
        'content-type': 'application/json',
        'x-request-id': uuid(),
        ...(gzip ? { 'content-encoding': 'gzip' } : {}),
      },
      body: gzip ? gzipSync(json) : json,
    });
  }
  return inputs;
}

/**
 * Protobuf uploads as app measurement sends them: a device message (the corpus device's IMEI as an int64,
 * Android ID as fixed64, advertising ID as a string, a third of the batches) and repeated event messages
 * with timestamps, names, numeric and string parameters. 4–40 KiB each. Seeded.
 */
export function protobufBatches(ids: Identifiers, count = 24): ScanInput[] {
  const rand = seededRandom(0x9b0f);
  const int = (n: number) => Math.floor(rand() * n);
  const hex = (n: number) => Array.from({ length: n }, () => '0123456789abcdef'[int(16)]).join('');
  const names = ['screen_view', 'user_engagement', 'ad_impression', 'session_start', 'purchase', 'first_open'];
  const inputs: ScanInput[] = [];
  for (let b = 0; b < count; b++) {
    const device = ids.devices[b % ids.devices.length];
    const w = protobuf.Writer.create();
    const d = protobuf.Writer.create().uint32(10).string('Pixel 7').uint32(18).string('13');
    if (b % 3 === 0 && device.imei[0]) d.uint32(24).uint64(device.imei[0]).uint32(33).fixed64(BigInt(`0x${device.android_id[0] ?? 'a1'}`).toString()).uint32(42).string(device.advertising_id[0] ?? hex(32));
    w.uint32(10).bytes(d.finish());
    const target = (4 + int(37)) * 1024;
    let ts = 1_700_000_000_000 + int(1e9);
    while (w.len < target) {
      ts += int(5000);
      const params = protobuf.Writer.create();
      for (let p = 0; p < 4; p += 2) params.uint32(10).string(`p${p}`).uint32(16).int64(int(1e6)).uint32(26).string(`v_${hex(6)}`);
      const event = protobuf.Writer.create().uint32(10).string(names[int(names.length)]).uint32(16).int64(ts).uint32(26).bytes(params.finish()).uint32(33).double(rand() * 100);
      w.uint32(18).bytes(event.finish());
    }
    inputs.push({ method: 'POST', url: 'https://app-measurement.example.com/a', headers: { 'content-type': 'application/x-protobuf', 'user-agent': 'okhttp/4.12.0' }, body: Buffer.from(w.finish()) });
  }
  return inputs;
}

/** Schema-less protobuf decoding alone: every field read, every length-delimited one tried as a message. */
function decodeProtobufOnly(input: ScanInput): void {
  const walk = (fields: ProtoField[] | undefined): void => {
    for (const f of fields ?? []) if (f.wire === 2) walk(protobufFields(f.bytes));
  };
  if (input.body) walk(protobufFields(input.body));
}

/** Median µs per attribution of each kind of flow, after the load (timed on its own). */
async function trackerCost(batch: ScanInput): Promise<TrackerCost> {
  const attributor = createTrackerAttributor();
  const form = (body: string) => ({ 'content-type': 'application/x-www-form-urlencoded', body: Buffer.from(body) });
  const at = (url: string, headers: Record<string, string>, body?: Buffer) => ({ method: 'POST', url, headers, body, start: 0 });
  const adjust = form('gps_adid=6d92078a-8246-4ba4-ae5b-76104861e7dc&android_uuid=f1e2d3c4-0000-4000-8000-123456789abc&app_token=abc123&os_name=android&tracking_enabled=1');
  const facebook = form('format=json&advertiser_id=6d92078a-8246-4ba4-ae5b-76104861e7dc&anon_id=XZ123&event=MOBILE_APP_INSTALL&application_tracking_enabled=1');
  const trackers = [
    at('https://app.adjust.com/session', { 'content-type': adjust['content-type'] }, adjust.body),
    at('https://graph.facebook.com/v14.0/1234567/activities', { 'content-type': facebook['content-type'] }, facebook.body),
    at('https://app-measurement.com/a', { 'content-type': 'application/x-protobuf' }, batch.body?.subarray(0, 4096)),
  ];
  const others = [at('https://api.example.com/v1/feed?page=2', {}), at('https://events.example.io/track', { 'content-type': 'application/json' }, Buffer.from('{"a":1}'))];
  const start = performance.now();
  await attributor.attribute(others[0], []);
  const loadMs = performance.now() - start;
  const perFlow = async (inputs: typeof trackers, rounds: number) => {
    const times: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const t = performance.now();
      for (const input of inputs) await attributor.attribute(input, []);
      times.push(((performance.now() - t) * 1000) / inputs.length);
    }
    return median(times);
  };
  await perFlow(trackers, 20);
  return { loadMs, trackerFlowUs: await perFlow(trackers, 200), otherFlowUs: await perFlow(others, 2000) };
}

const INFLATE: Record<string, (b: Buffer) => Buffer> = { gzip: gunzipSync, deflate: inflateSync, br: brotliDecompressSync };

/** Reads one request the cheapest way a scanner could, and looks at nothing: the baseline detection is held to. */
function parseOnly(input: ScanInput): void {
  const url = new URL(input.url);
  for (const entry of url.searchParams) void entry;
  for (const [name, value] of Object.entries(input.headers)) void [name, value];
  if (!input.body) return;
  const encoding = input.headers['content-encoding'];
  const body = typeof encoding === 'string' && INFLATE[encoding] ? INFLATE[encoding](input.body) : input.body;
  const text = body.toString('utf8');
  if (text[0] === '{' || text[0] === '[') {
    try {
      JSON.parse(text);
      return;
    } catch {
      // read as a form below
    }
  }
  for (const entry of new URLSearchParams(text)) void entry;
}

/**
 * Median MB/s of each of `passes` over `inputs`, after a warm-up. The passes take turns, one pass over the
 * corpus each, so that whatever else slows this shared machine for a while slows all of them alike and their
 * ratios hold.
 */
export async function throughputs(passes: ((input: ScanInput) => unknown)[], inputs: ScanInput[], bytes: number): Promise<number[]> {
  const passAll = async (pass: (input: ScanInput) => unknown) => {
    const start = performance.now();
    for (const input of inputs) await pass(input);
    return bytes / 1e6 / ((performance.now() - start) / 1000);
  };
  const warmUpEnd = performance.now() + WARM_UP_SECONDS * 1000;
  do for (const pass of passes) await passAll(pass);
  while (performance.now() < warmUpEnd);
  const rates: number[][] = passes.map(() => []);
  const end = performance.now() + MEASURE_SECONDS * passes.length * 1000;
  while (performance.now() < end || rates[0].length < 5) {
    for (let p = 0; p < passes.length; p++) rates[p].push(await passAll(passes[p]));
  }
  return rates.map(median);
}

const detecting = (identifiers: Identifiers) => {
  const detector = createDetector(identifiers);
  return (input: ScanInput) => detector.scanRequest(input);
};

async function corpusThroughput(inputs: ScanInput[], ids50: Identifiers, ids1000: Identifiers, floor: (input: ScanInput) => void = parseOnly): Promise<CorpusThroughput> {
  const bytes = inputs.reduce((n, r) => n + wireBytes(r), 0);
  const [mbPerSecond50, mbPerSecond1000, parseOnlyMbPerSecond] = await throughputs([detecting(ids50), detecting(ids1000), floor], inputs, bytes);
  return { bytes, requests: inputs.length, mbPerSecond50, mbPerSecond1000, ratio: mbPerSecond1000 / mbPerSecond50, parseOnlyMbPerSecond };
}

const HOSTILE_SCANS = 5;

/** Each hostile body's median scan time, after one scan to warm up. */
async function hostileTimes(ids: Identifiers, msPerTelemetryMib: number): Promise<HostileBody[]> {
  const detector = createDetector(ids);
  const out: HostileBody[] = [];
  for (const { name, input } of hostileBodies()) {
    await detector.scanRequest(input);
    const times: number[] = [];
    for (let i = 0; i < HOSTILE_SCANS; i++) {
      const start = performance.now();
      await detector.scanRequest(input);
      times.push(performance.now() - start);
    }
    const ms = median(times);
    const mib = (input.body?.length ?? 0) / (1 << 20);
    out.push({ name, kib: (input.body?.length ?? 0) / 1024, ms, perMibRatio: ms / mib / msPerTelemetryMib });
  }
  return out.sort((a, b) => b.ms - a.ms);
}

export async function benchDetection(): Promise<DetectionBench> {
  const { requests, identifiers } = loadCorpus();
  const ids50 = identifiersWith(identifiers, 50);
  const ids1000 = identifiersWith(identifiers, 1000);
  const buildStart = performance.now();
  createDetector(ids1000);
  const buildMs1000 = performance.now() - buildStart;
  const small = await corpusThroughput(requests.map(toInput), ids50, ids1000);
  const large = await corpusThroughput(telemetryBatches(identifiers), ids50, ids1000);
  const hostile = await hostileTimes(ids50, 1000 / (large.mbPerSecond50 / 1.048576));
  const batches = protobufBatches(identifiers);
  const protobufThroughput = await corpusThroughput(batches, ids50, ids1000, decodeProtobufOnly);
  const trackers = await trackerCost(batches[0]);
  return { ...small, corpusBytes: small.bytes, buildMs1000, large, hostile, protobuf: protobufThroughput, trackers };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const r = await benchDetection();
  const show = (name: string, c: CorpusThroughput) => {
    console.log(`${name}: ${c.requests} requests, ${(c.bytes / 1024).toFixed(0)} KiB on the wire (${(c.bytes / c.requests / 1024).toFixed(1)} KiB each)`);
    console.log(`   50 identifiers: ${c.mbPerSecond50.toFixed(1)} MB/s`);
    console.log(` 1000 identifiers: ${c.mbPerSecond1000.toFixed(1)} MB/s`);
    console.log(`            ratio: ${c.ratio.toFixed(2)} (target ≥ 0.8)`);
    console.log(`  only parsing them: ${c.parseOnlyMbPerSecond.toFixed(1)} MB/s (detection with 50 runs at ${(c.mbPerSecond50 / c.parseOnlyMbPerSecond).toFixed(2)}× that)`);
  };
  show('small requests (labelled corpus)', r);
  show('large bodies (telemetry batches)', r.large);
  show('protobuf batches ("only parsing": schema-less decoding alone)', r.protobuf);
  console.log(`tracker attribution: trackhar loaded in ${r.trackers.loadMs.toFixed(0)} ms; ${r.trackers.trackerFlowUs.toFixed(0)} µs per flow to a tracker's endpoint, ${r.trackers.otherFlowUs.toFixed(1)} µs per flow to any other host`);
  console.log(`matcher for 1000 identifiers built in ${r.buildMs1000.toFixed(0)} ms`);
  console.log('hostile bodies (50 identifiers), slowest first:');
  for (const h of r.hostile) console.log(`  ${h.name.padEnd(40)} ${h.kib.toFixed(0).padStart(5)} KiB ${h.ms.toFixed(0).padStart(5)} ms  (${h.perMibRatio.toFixed(1)}× a MiB of telemetry)`);
  const baseline = process.env.BENCH_DETECT_BASELINE;
  if (baseline) await compareWithBaseline(baseline);
}
