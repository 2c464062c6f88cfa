// Structured text: JSON, form, XML, vCard. Each splits a string into keyed leaves with precise paths.
import { MIN_SEGMENT } from './sink';

export interface Leaf {
  /** path suffix relative to the container: `.a.b[0]`, `key`, `tag@attr`, `vcard[0].TEL` */
  path: string;
  key: string;
  value: string;
  /** path suffix of the container holding this leaf (list or object) */
  parent: string;
  inList: boolean;
  /** the key of the object holding the leaf (JSON) */
  parentKey?: string;
}

const LONG_INTEGER = /([:,[]\s*)(-?\d{16,})(?=\s*[,\]}])/g;
const isLetter = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
const isDigit = (c: number) => c >= 48 && c <= 57;

/** A key written `.key` in a path rather than `["key"]`: a JavaScript identifier. */
function isIdentifier(k: string): boolean {
  if (k.length === 0) return false;
  for (let i = 0; i < k.length; i++) {
    const c = k.charCodeAt(i);
    if (!(isLetter(c) || c === 95 || c === 36 || (i > 0 && isDigit(c)))) return false; // _ $
  }
  return true;
}

/** Letters, `_` and `-` only: a field name, never an identifier. */
function isPlainWord(k: string): boolean {
  for (let i = 0; i < k.length; i++) {
    const c = k.charCodeAt(i);
    if (!(isLetter(c) || c === 95 || c === 45)) return false;
  }
  return true;
}

/**
 * Numbers written in at most five characters, shorter than any segment, so not worth a string: integers of
 * -9999 to 99999, and fractions of -9.99 to 99.99 with at most two decimals (prices, ratios). A fraction
 * equal to k/100 reads back from k/100 written with two decimals, so its shortest form, the one String()
 * writes, has no more. (Both rely on MIN_SEGMENT being 6.)
 */
export function tooShort(n: number): boolean {
  if (Number.isInteger(n)) return n > -10_000 && n < 100_000;
  return n > -10 && n < 100 && Math.round(n * 100) / 100 === n;
}

interface JsonLeaves {
  leaves: Leaf[];
  /** an integer beyond 2^53 was parsed: its digits are lost */
  lossy: boolean;
}

interface KeyShape {
  /** what the key adds to its object's path: `.key` or `["key"]` */
  step: string;
  /** Keys can be identifiers too ({"865123456789012": {...}}); plain words cannot. */
  mayBeValue: boolean;
}

/**
 * Shapes of the keys met so far. Telemetry repeats a few keys thousands of times per batch, and JSON.parse
 * hands them over internalized, so a lookup is cheaper than classifying and quoting the key again.
 */
const keyShapes = new Map<string, KeyShape>();
const KEY_SHAPES_KEPT = 10_000;
/** Field names are short; a long key is data (or an attack on this cache's memory), classified every time. */
const KEY_SHAPE_MAX_LENGTH = 64;

function keyShape(k: string): KeyShape {
  let shape = keyShapes.get(k);
  if (shape) return shape;
  shape = { step: isIdentifier(k) ? `.${k}` : `[${JSON.stringify(k)}]`, mayBeValue: k.length >= 6 && !isPlainWord(k) };
  if (k.length > KEY_SHAPE_MAX_LENGTH) return shape;
  // Keys are chosen by the app: forget them all rather than grow without bound.
  if (keyShapes.size >= KEY_SHAPES_KEPT) keyShapes.clear();
  keyShapes.set(k, shape);
  return shape;
}

function jsonLeaves(value: unknown, path: string, key: string, parent: string, inList: boolean, parentKey: string, out: JsonLeaves): void {
  if (typeof value === 'string') {
    if (value.length >= MIN_SEGMENT) out.leaves.push({ path, key, value, parent, inList, parentKey });
  } else if (typeof value === 'number') {
    if (Number.isInteger(value) && !Number.isSafeInteger(value)) out.lossy = true;
    if (tooShort(value)) return;
    const text = String(value);
    if (text.length >= MIN_SEGMENT) out.leaves.push({ path, key, value: text, parent, inList, parentKey });
  } else if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) jsonLeaves(value[i], `${path}[${i}]`, key, path, true, parentKey, out);
  } else if (value && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    // for-in, not Object.entries: no array of pairs per object; JSON.parse objects have no inherited keys.
    for (const k in object) {
      const shape = keyShape(k);
      const childPath = path + shape.step;
      if (shape.mayBeValue) out.leaves.push({ path: childPath, key, value: k, parent: path, inList: false, parentKey });
      jsonLeaves(object[k], childPath, k, path, false, key, out);
    }
  }
}

function leavesOf(value: unknown, root: string): JsonLeaves | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const out: JsonLeaves = { leaves: [], lossy: false };
  jsonLeaves(value, root, '', root, false, '', out);
  return out;
}

/**
 * Leaves of JSON text, every path and parent already prefixed by `root` (what the caller would join them to):
 * a leaf's path is built once, not built relative and then joined. Integers beyond 2^53 (ICCIDs, IMEI lists)
 * keep their digits: the text is parsed again with them quoted, only when the first parse met one (rare, and
 * quoting costs a scan of the whole text).
 */
export function jsonAt(text: string, root: string): Leaf[] | undefined {
  const first = text.charCodeAt(0);
  if (first !== 0x7b && first !== 0x5b) return undefined; // { [
  let parsed: JsonLeaves | undefined;
  try {
    parsed = leavesOf(JSON.parse(text), root);
  } catch {
    return undefined;
  }
  if (!parsed?.lossy) return parsed?.leaves;
  try {
    return leavesOf(JSON.parse(text.replace(LONG_INTEGER, '$1"$2"')), root)?.leaves ?? parsed.leaves;
  } catch {
    // the rewrite touched a string's content
    return parsed.leaves;
  }
}

const FORM = /^[\w.\-[\]%]+=[^&\s]*(?:&[\w.\-[\]%]+=[^&\s]*)+$/;
const ONE_FIELD_OR_MORE = /^[\w.\-[\]%]+=[^&\s]*(?:&[\w.\-[\]%]+=[^&\s]*)*$/;

/**
 * `a=1&b=2`: the raw (still percent-encoded) values, so the caller records `urlencoded` when it undoes it.
 * Undeclared text needs two fields, or one whose value is long, to be taken for a form: a short lone `a=b`
 * is as likely prose or a token.
 */
/** One field, undeclared: a word for a key and a long value (`data=eyJ…`), no space anywhere. */
const LONE_FIELD = /^[A-Za-z_][\w.\-[\]]{0,31}=[^&\s]{16,}$/;

export function form(text: string, declared = false): Leaf[] | undefined {
  if (!text.includes('=') || !(declared ? ONE_FIELD_OR_MORE : FORM).test(text) && !LONE_FIELD.test(text)) return undefined;
  return formPairs(text);
}

export function formPairs(text: string): Leaf[] {
  const out: Leaf[] = [];
  for (const pair of text.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const rawKey = eq < 0 ? pair : pair.slice(0, eq);
    let key = rawKey;
    try {
      key = decodeURIComponent(rawKey.replace(/\+/g, ' '));
    } catch {
      // keep the raw key
    }
    out.push({ path: key, key, value: eq < 0 ? '' : pair.slice(eq + 1), parent: '', inList: false });
  }
  return out;
}

const XML_ELEMENT = /<([A-Za-z_][\w:.-]*)([^<>]*?)(?:\/>|>([^<]*)<\/\1\s*>)/g;
const XML_ATTRIBUTE = /([A-Za-z_][\w:.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;
const XML_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function unescapeXml(s: string): string {
  return s.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_, e: string) =>
    e[0] === '#' ? String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10)) : XML_ENTITIES[e],
  );
}

/** Leaf elements and attributes of XML (or HTML-ish) text; the path is `tag` or `tag@attr`. */
export function xml(text: string): Leaf[] | undefined {
  if (text.charCodeAt(0) !== 0x3c) return undefined; // <
  const out: Leaf[] = [];
  for (const m of text.matchAll(XML_ELEMENT)) {
    const [, tag, attrs, content] = m;
    for (const a of attrs.matchAll(XML_ATTRIBUTE)) {
      out.push({ path: `${tag}@${a[1]}`, key: a[1], value: unescapeXml(a[2] ?? a[3] ?? ''), parent: tag, inList: false });
    }
    if (content?.trim()) out.push({ path: tag, key: tag, value: unescapeXml(content.trim()), parent: '', inList: true });
  }
  return out.length > 0 ? out : undefined;
}

const VCARD_LINE = /^([A-Za-z][\w-]*(?:\.[\w-]+)?)((?:;[^:]*)?):(.*)$/;

/** vCard properties of trimmed text: `vcard[2].TEL`, keyed by property name so TEL and EMAIL are telling. */
export function vcard(text: string): Leaf[] | undefined {
  if ((text.charCodeAt(0) | 0x20) !== 0x62 || !/^BEGIN:VCARD/i.test(text)) return undefined; // b
  const out: Leaf[] = [];
  let card = -1;
  // Folded lines continue with a leading space (RFC 2425).
  for (const line of text.replace(/\r?\n[ \t]/g, '').split(/\r?\n/)) {
    if (/^BEGIN:VCARD/i.test(line)) card++;
    const m = VCARD_LINE.exec(line);
    if (!m || card < 0) continue;
    const name = m[1].replace(/^.*\./, '').toUpperCase();
    if (name === 'BEGIN' || name === 'END' || name === 'VERSION') continue;
    out.push({ path: `vcard[${card}].${name}`, key: name, value: m[3], parent: 'vcard', inList: true });
  }
  return out;
}
