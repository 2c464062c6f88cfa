// Detection throughput over the labelled corpus, with 50 and with 1,000 known identifiers loaded.
//   node --import tsx bench/detect.ts
import { pathToFileURL } from 'node:url';
import { createDetector } from '../proxy/detect';
import type { Identifiers } from '../shared/identifiers';
import { luhnCheckDigit } from '../proxy/detect/patterns/validators';
import { loadCorpus, toInput } from '../test/detect/corpus-eval';

export interface DetectionBench {
  corpusBytes: number;
  requests: number;
  mbPerSecond50: number;
  mbPerSecond1000: number;
  /** 1,000-identifier throughput over 50-identifier throughput (target ≥ 0.8) */
  ratio: number;
  /** ms to build the matcher for 1,000 identifiers */
  buildMs1000: number;
}

const PASSES_SECONDS = 3;

/** Counts the values of an identifiers file (contacts count once per phone and e-mail). */
function countValues(ids: Identifiers): number {
  return ids.devices.reduce((n, d) => {
    const lists = [d.imei, d.meid, d.imsi, d.iccid, d.phone_number, d.android_id, d.advertising_id, d.mac_address, d.serial_number, d.email, d.sms];
    return n + lists.reduce((m, l) => m + l.length, 0) + d.contacts.reduce((m, c) => m + c.phone.length + c.email.length, 0) + d.location.length;
  }, 0);
}

/** The corpus devices plus made-up devices until `total` values are loaded (deterministic). */
function identifiersWith(base: Identifiers, total: number): Identifiers {
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
    devices.push({
      name: `filler ${i}`,
      imei: [], meid: [], imsi: [], iccid: [], phone_number: [], android_id: [], advertising_id: [], mac_address: [],
      serial_number: [], email: [], contacts: [], sms: [], location: [],
      ...Object.fromEntries(entries),
    });
  }
  return { devices };
}

async function throughput(identifiers: Identifiers, inputs: ReturnType<typeof toInput>[], bytes: number): Promise<number> {
  const detector = createDetector(identifiers);
  for (const input of inputs) await detector.scanRequest(input); // warm-up
  let scanned = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < PASSES_SECONDS) {
    for (const input of inputs) await detector.scanRequest(input);
    scanned += bytes;
    elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  }
  return scanned / 1e6 / elapsed;
}

export async function benchDetection(): Promise<DetectionBench> {
  const { requests, identifiers } = loadCorpus();
  const inputs = requests.map(toInput);
  const bytes = inputs.reduce(
    (n, r) => n + r.url.length + Object.entries(r.headers).reduce((m, [k, v]) => m + k.length + String(v).length + 4, 0) + (r.body?.length ?? 0),
    0,
  );
  const ids50 = identifiersWith(identifiers, 50);
  const ids1000 = identifiersWith(identifiers, 1000);
  const buildStart = performance.now();
  createDetector(ids1000);
  const buildMs1000 = performance.now() - buildStart;
  const mbPerSecond50 = await throughput(ids50, inputs, bytes);
  const mbPerSecond1000 = await throughput(ids1000, inputs, bytes);
  return { corpusBytes: bytes, requests: inputs.length, mbPerSecond50, mbPerSecond1000, ratio: mbPerSecond1000 / mbPerSecond50, buildMs1000 };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const r = await benchDetection();
  console.log(`detection over ${r.requests} requests (${(r.corpusBytes / 1024).toFixed(0)} KiB on the wire)`);
  console.log(`   50 identifiers: ${r.mbPerSecond50.toFixed(1)} MB/s`);
  console.log(` 1000 identifiers: ${r.mbPerSecond1000.toFixed(1)} MB/s (matcher built in ${r.buildMs1000.toFixed(0)} ms)`);
  console.log(`            ratio: ${r.ratio.toFixed(2)} (target ≥ 0.8)`);
}
