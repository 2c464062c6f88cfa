// The decoding layer: turns one string or blob into segments, undoing nested encodings
// (URL, base64, hex, gzip/deflate) and splitting containers (JSON, form, XML, vCard) into keyed leaves.
//
// Synchronous unless a blob is big enough to need the streaming inflater: every function returns
// `undefined` when it is done, or a Promise for the rest of its work. Ordinary requests never allocate one.
import { asText, barren, base64Text, binaryText, decodeBase64ToScratch, decodeHexToScratch, hexText, percentDecode, printableRuns, scratch, sniffCompression, utf8Text } from './bytes';
import { form, jsonAt, vcard, xml, type Leaf } from './containers';
import { inflate } from './inflate';
import { child, MIN_SEGMENT, within, type Place, type SegmentSink } from './sink';

/** Layers undone at most: three wrappings like gzip+base64 inside a URL-encoded field, with room to spare. */
const MAX_CHAIN = 8;

/** Finished, or a Promise for the remaining work. */
export type Pending = Promise<void> | undefined;

/** After JSON, which `jsonAt` handles with paths built in place. */
const OTHER_CONTAINERS = [form, xml, vcard];

function joinPath(base: string, suffix: string, asJson: boolean): string {
  if (!base) return asJson ? `$${suffix}` : suffix.replace(/^\./, '');
  if (!suffix) return base;
  return suffix[0] === '.' || suffix[0] === '[' ? base + suffix : `${base}.${suffix}`;
}

/** The root `jsonAt` prefixes JSON leaf paths with: what `joinPath(base, suffix, true)` would join them to. */
const jsonRoot = (base: string) => base || '$';

/** `absolute`: the leaves' paths and parents are whole already (JSON, from `jsonAt`), not suffixes. */
function expandLeaves(leaves: Leaf[], from: number, place: Place, sink: SegmentSink, absolute: boolean): Pending {
  for (let i = from; i < leaves.length; i++) {
    if (sink.exhausted) return undefined;
    const leaf = leaves[i];
    const path = absolute ? leaf.path : joinPath(place.path, leaf.path, false);
    const parent = absolute ? leaf.parent : joinPath(place.path, leaf.parent, false);
    const pending = expandValue(leaf.value, child(place, path, leaf.key || place.key, leaf.inList, parent), sink);
    if (pending) return pending.then(() => expandLeaves(leaves, i + 1, place, sink, absolute));
  }
  return undefined;
}

/** Scans `text` and whatever it decodes to. */
export function expandValue(text: string, place: Place, sink: SegmentSink): Pending {
  if (text.length < MIN_SEGMENT || sink.exhausted) return undefined;
  const trimmed = text.trim();
  const jsonLeaves = jsonAt(trimmed, jsonRoot(place.path));
  if (jsonLeaves) return expandLeaves(jsonLeaves, 0, place, sink, true);
  return expandNotJson(text, trimmed, place, sink);
}

/** `expandValue` for text known not to parse as JSON; `trimmed` is `text` trimmed. */
function expandNotJson(text: string, trimmed: string, place: Place, sink: SegmentSink): Pending {
  if (text.length < MIN_SEGMENT || sink.exhausted) return undefined;
  for (const container of OTHER_CONTAINERS) {
    const leaves = container(trimmed);
    if (leaves) return expandLeaves(leaves, 0, place, sink, false);
  }
  // Percent-escapes are unambiguous: the decoded text says all the raw one does, with the right chain.
  const unescaped = place.chain.length < MAX_CHAIN ? percentDecode(trimmed) : undefined;
  if (unescaped !== undefined && unescaped !== trimmed) return expandValue(unescaped, within(place, 'urlencoded'), sink);
  sink.emit(text, place);
  if (place.chain.length >= MAX_CHAIN) return undefined;

  // What decodes to noise is dropped here, before it is a Buffer and a Place: `barren` says when scanning it
  // would find nothing.
  if (hexText(trimmed)) {
    if (barren(scratch(), decodeHexToScratch(trimmed))) return undefined;
    return expandBytes(Buffer.from(trimmed, 'hex'), within(place, 'hex'), sink);
  }
  if (base64Text(trimmed)) {
    const n = decodeBase64ToScratch(trimmed);
    if (n < 6 || barren(scratch(), n)) return undefined;
    return expandBytes(Buffer.from(trimmed, 'base64'), within(place, 'base64'), sink);
  }
  return undefined;
}

async function expandInflating(pending: Promise<Buffer>, buf: Buffer, place: Place, compression: string, sink: SegmentSink): Promise<void> {
  let inflated: Buffer;
  try {
    inflated = await pending;
  } catch {
    // not actually compressed: a zlib-looking header by chance
    return expandUncompressed(buf, place, sink);
  }
  return expandBytes(inflated, within(place, compression), sink);
}

/** Scans a blob: inflates it when compressed, reads it as text when it is text, else its printable runs. */
export function expandBytes(buf: Buffer, place: Place, sink: SegmentSink): Pending {
  if (sink.exhausted) return undefined;
  const compression = sniffCompression(buf);
  if (compression && place.chain.length < MAX_CHAIN) {
    const inflated = inflate(buf, compression, sink.byteLimit);
    if (!Buffer.isBuffer(inflated)) return expandInflating(inflated, buf, place, compression, sink);
    return expandBytes(inflated, within(place, compression), sink);
  }
  return expandUncompressed(buf, place, sink);
}

/** A body the request declares a form: one even with a single field. */
export function expandFormBody(buf: Buffer, place: Place, sink: SegmentSink): Pending {
  const text = asText(buf)?.trim();
  const leaves = text === undefined ? undefined : form(text, true);
  return leaves ? expandLeaves(leaves, 0, place, sink, false) : expandBytes(buf, place, sink);
}

function expandUncompressed(buf: Buffer, place: Place, sink: SegmentSink): Pending {
  const text = utf8Text(buf);
  if (text !== undefined) {
    // JSON holds no raw control characters, so a body that parses needs no count of them (a scan of the
    // whole body, for the commonest body there is); one that does not is not parsed a second time.
    const trimmed = text.trim();
    const jsonLeaves = jsonAt(trimmed, jsonRoot(place.path));
    if (jsonLeaves) return expandLeaves(jsonLeaves, 0, place, sink, true);
    if (!binaryText(text, buf.length)) return expandNotJson(text, trimmed, place, sink);
  }
  return expandRuns(printableRuns(buf), 0, place, sink);
}

function expandRuns(runs: { text: string; offset: number }[], from: number, place: Place, sink: SegmentSink): Pending {
  for (let i = from; i < runs.length; i++) {
    const run = runs[i];
    const pending = expandValue(run.text, child(place, place.path ? `${place.path}@${run.offset}` : `@${run.offset}`, place.key), sink);
    if (pending) return pending.then(() => expandRuns(runs, i + 1, place, sink));
  }
  return undefined;
}
