// The decoding layer: turns one string or blob into segments, undoing nested encodings
// (URL, base64, hex, gzip/deflate) and splitting containers (JSON, form, XML, vCard) into keyed leaves.
import { asText, base64Bytes, hexBytes, percentDecode, printableRuns, sniffCompression } from './bytes';
import { form, json, vcard, xml, type Leaf } from './containers';
import { inflate } from './inflate';
import { child, MIN_SEGMENT, within, type Place, type SegmentSink } from './sink';

/** Layers undone at most: three wrappings like gzip+base64 inside a URL-encoded field, with room to spare. */
const MAX_CHAIN = 8;

const CONTAINERS = [json, form, xml, vcard];

function joinPath(base: string, suffix: string, asJson: boolean): string {
  if (!base) return asJson ? `$${suffix}` : suffix.replace(/^\./, '');
  if (!suffix) return base;
  return suffix[0] === '.' || suffix[0] === '[' ? base + suffix : `${base}.${suffix}`;
}

async function expandLeaves(leaves: Leaf[], place: Place, sink: SegmentSink, asJson: boolean): Promise<void> {
  for (const leaf of leaves) {
    if (sink.exhausted) return;
    const path = joinPath(place.path, leaf.path, asJson);
    const parent = joinPath(place.path, leaf.parent, asJson);
    await expandValue(leaf.value, { ...child(place, path, leaf.key || place.key, leaf.inList), parent }, sink);
  }
}

/** Scans `text` and whatever it decodes to. */
export async function expandValue(text: string, place: Place, sink: SegmentSink): Promise<void> {
  if (text.length < MIN_SEGMENT || sink.exhausted) return;
  const trimmed = text.trim();
  for (const container of CONTAINERS) {
    const leaves = container(trimmed);
    if (leaves) return expandLeaves(leaves, place, sink, container === json);
  }
  // Percent-escapes are unambiguous: the decoded text says all the raw one does, with the right chain.
  const unescaped = place.chain.length < MAX_CHAIN ? percentDecode(trimmed) : undefined;
  if (unescaped !== undefined && unescaped !== trimmed) return expandValue(unescaped, within(place, 'urlencoded'), sink);
  sink.emit(text, place);
  if (place.chain.length >= MAX_CHAIN) return;

  const hex = hexBytes(trimmed);
  if (hex) await expandBytes(hex, within(place, 'hex'), sink);
  const b64 = hex ? undefined : base64Bytes(trimmed);
  if (b64) await expandBytes(b64, within(place, 'base64'), sink);
}

/** Scans a blob: inflates it when compressed, reads it as text when it is text, else its printable runs. */
export async function expandBytes(buf: Buffer, place: Place, sink: SegmentSink): Promise<void> {
  if (sink.exhausted) return;
  const compression = sniffCompression(buf);
  if (compression && place.chain.length < MAX_CHAIN) {
    try {
      const inflated = await inflate(buf, compression, sink.byteLimit);
      return expandBytes(inflated, within(place, compression), sink);
    } catch {
      // not actually compressed: a zlib-looking header by chance
    }
  }
  const text = asText(buf);
  if (text !== undefined) return expandValue(text, place, sink);
  for (const run of printableRuns(buf)) {
    await expandValue(run.text, child(place, place.path ? `${place.path}@${run.offset}` : `@${run.offset}`, place.key), sink);
  }
}
