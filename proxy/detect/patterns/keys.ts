// Telling keys: the field name around a value (`deviceImei`, `X-Android-Id`, `gps.lat`) split into words.

const cache = new Map<string, Set<string>>();

/** Words of a key and every concatenation of adjacent words: `x_device_id` → x, device, id, deviceid, xdevice, … */
export function keyWords(key: string): Set<string> {
  let words = cache.get(key);
  if (words) return words;
  const parts = key
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  words = new Set<string>();
  for (let i = 0; i < parts.length; i++) {
    let joined = '';
    for (let j = i; j < parts.length && j < i + 3; j++) {
      joined += parts[j];
      words.add(joined);
      // plural keys hold lists of the singular: phones, emails, coords
      if (joined.length > 3 && joined.endsWith('s')) words.add(joined.slice(0, -1));
    }
  }
  if (cache.size > 10_000) cache.clear();
  cache.set(key, words);
  return words;
}

/** Answers per term set, per key: keys repeat endlessly across requests, term sets are a fixed few. */
const answers = new WeakMap<ReadonlySet<string>, Map<string, boolean>>();

export function keyHasAny(key: string, terms: ReadonlySet<string>): boolean {
  if (!key) return false;
  let byKey = answers.get(terms);
  if (!byKey) answers.set(terms, (byKey = new Map()));
  let answer = byKey.get(key);
  if (answer === undefined) {
    answer = false;
    for (const word of keyWords(key)) {
      if (terms.has(word)) {
        answer = true;
        break;
      }
    }
    if (byKey.size > 10_000) byKey.clear();
    byKey.set(key, answer);
  }
  return answer;
}

/** Keys whose numbers are clocks, counters and money, never device identifiers. */
export const NOT_AN_IDENTIFIER = new Set([
  'time', 'timestamp', 'ts', 'date', 'created', 'updated', 'expires', 'expiry', 'order', 'orderid', 'orderno',
  'seq', 'sequence', 'nonce', 'trace', 'traceid', 'span', 'spanid', 'txn', 'transaction', 'amount', 'price',
  'version', 'build', 'checksum', 'crc', 'size', 'length', 'count', 'offset', 'requestid', 'reqid', 'msgid',
  'invoice', 'tracking', 'sku', 'ms', 'millis', 'micros', 'nanos', 'epoch', 'elapsed', 'duration',
]);
