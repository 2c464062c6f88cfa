// The decoding layer: turns one string or blob into segments, undoing nested encodings
// (URL, base64, hex, gzip/deflate) and splitting containers (JSON, form, XML, vCard) into keyed leaves.
//
// Synchronous unless a blob is big enough to need the streaming inflater: every function returns
// `undefined` when it is done, or a Promise for the rest of its work. Ordinary requests never allocate one.
import { asText, barren, base64Text, binaryText, decodeBase64ToScratch, decodeHexToScratch, foundRun, hexText, nextEncodedRun, percentDecode, printableRuns, scratch, sniffCompression, textShape, utf8Text } from './bytes';
import { form, jsonAt, vcard, xml, type Leaf } from './containers';
import { inflate } from './inflate';
import { jwtPayload } from './jwt';
import { coordinateText, grpcFrames, integerTexts, protobufFields, protobufShaped, type ProtoField } from './protobuf';
import { child, MIN_SEGMENT, within, type Place, type SegmentSink } from './sink';

/** Layers undone at most: three wrappings like gzip+base64 inside a URL-encoded field, with room to spare. */
const MAX_CHAIN = 8;

/** Finished, or a Promise for the remaining work. */
export type Pending = Promise<void> | undefined;

/** One part of a container's scan, each run only once the previous one (sync or not) has finished. */
export type Step = () => Pending;

export function runSteps(steps: Step[], from = 0): Pending {
  for (let i = from; i < steps.length; i++) {
    const pending = steps[i]();
    if (pending) return later(pending, runSteps, steps, i + 1);
  }
  return undefined;
}

/** `step` once `pending` (the scan before it, if that went asynchronous) has finished. */
export function after(pending: Pending, step: Step): Pending {
  return pending ? pending.then(step) : step();
}

/**
 * `scan(...args)` once `pending` has finished. The closure is made here, not where the scan loops: a function
 * that makes one keeps what it captures on the heap, for every call and every turn of its loop, whether or
 * not it ever has anything to wait for.
 */
function later<A extends unknown[]>(pending: Promise<void>, scan: (...args: A) => Pending, ...args: A): Promise<void> {
  return pending.then(() => scan(...args));
}

/** `expandValue` once `pending` has finished. */
export function expandValueAfter(pending: Pending, text: string, place: Place, sink: SegmentSink): Pending {
  return pending ? later(pending, expandValue, text, place, sink) : expandValue(text, place, sink);
}

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
    const pending = expandValue(leaf.value, child(place, path, leaf.key || place.key, leaf.inList, parent, leaf.parentKey), sink);
    if (pending) return later(pending, expandLeaves, leaves, i + 1, place, sink, absolute);
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
  const shape = textShape(trimmed);
  // Percent-escapes are unambiguous: the decoded text says all the raw one does, with the right chain.
  const unescaped = place.chain.length < MAX_CHAIN ? percentDecode(trimmed, shape) : undefined;
  if (unescaped !== undefined && unescaped !== trimmed) return expandValue(unescaped, within(place, 'urlencoded'), sink);
  sink.emit(text, place);
  if (place.chain.length >= MAX_CHAIN) return undefined;
  const claims = jwtPayload(trimmed);
  if (claims !== undefined) return expandValue(claims, within(place, 'jwt'), sink);
  const encoded = expandEncoded(trimmed, place, sink, shape);
  if (encoded !== null) return encoded;
  return expandEmbedded(trimmed, place, sink, 0);
}

/**
 * Hex or base64 text decoded and scanned; undefined when `text` is neither. What decodes to noise is dropped
 * here, before it is a Buffer and a Place: `barren` says when scanning it would find nothing (a message of
 * protobuf varints has no printable run, so it is looked at first).
 */
function expandEncoded(text: string, place: Place, sink: SegmentSink, shape = textShape(text)): Pending | null {
  if (hexText(text, shape)) {
    const n = decodeHexToScratch(text);
    if (barren(scratch(), n) && !protobufShaped(scratch(), n)) return undefined;
    return expandBytes(Buffer.from(text, 'hex'), within(place, 'hex'), sink);
  }
  if (base64Text(text, shape)) {
    const n = decodeBase64ToScratch(text);
    if (n < 6 || (barren(scratch(), n) && !protobufShaped(scratch(), n))) return undefined;
    return expandBytes(Buffer.from(text, 'base64'), within(place, 'base64'), sink);
  }
  return null;
}

/** Base64 and hex runs inside plain text (`token=… data=eyJ…`, a log line), each decoded and scanned. */
function expandEmbedded(text: string, place: Place, sink: SegmentSink, from: number): Pending {
  for (let run = nextEncodedRun(text, from); run !== undefined; run = nextEncodedRun(text, from)) {
    // read before decoding the run: a run inside it is looked for with the same `foundRun`
    from = foundRun.resume;
    const pending = expandEncoded(run, place, sink, foundRun.shape);
    if (pending) return later(pending, expandEmbedded, text, place, sink, from);
  }
  return undefined;
}

/** Nested messages followed at most: hostile nesting must not cost a stack frame per byte. */
const MAX_MESSAGE_DEPTH = 32;

/** A message's fields, each at `$.1.3.2` (field numbers); a field that repeats is a list. */
function expandMessage(fields: ProtoField[], place: Place, sink: SegmentSink, depth: number): Pending {
  const repeats = new Map<number, number>();
  for (const f of fields) repeats.set(f.field, (repeats.get(f.field) ?? 0) + 1);
  return expandFields(fields, 0, repeats, place, sink, depth);
}

function expandFields(fields: ProtoField[], from: number, repeats: Map<number, number>, place: Place, sink: SegmentSink, depth: number): Pending {
  const parent = place.path || '$';
  for (let i = from; i < fields.length; i++) {
    const f = fields[i];
    const pending = expandField(f, child(place, joinPath(place.path, `.${f.field}`, true), '', repeats.get(f.field)! > 1, parent), sink, depth);
    if (pending) return later(pending, expandFields, fields, i + 1, repeats, place, sink, depth);
  }
  return undefined;
}

function expandField(f: ProtoField, place: Place, sink: SegmentSink, depth: number): Pending {
  if (sink.exhausted) return undefined;
  if (f.wire === 2) return expandLengthDelimited(f.bytes, place, sink, depth);
  // A number is never a list item, whatever repeats: a path has no index, so one field's values across every
  // message of a repeated one (each event's counters) would make one long "list" of phone-like numbers.
  const at = place.inList ? { ...place, inList: false } : place;
  // Numbers are matched as their digits: an IMEI as an int64, an Android ID as a (signed) 64-bit integer.
  if (f.wire === 0 || f.wire === 1) for (const text of integerTexts(f.low, f.high)) sink.emit(text, at);
  const real = f.wire === 1 ? coordinateText(f.double) : f.wire === 5 ? coordinateText(f.float) : undefined;
  if (real !== undefined) sink.emit(real, at);
  return undefined;
}

/** A string, a nested message, or bytes: text is text, what parses whole is a message, the rest a blob. */
function expandLengthDelimited(bytes: Buffer, place: Place, sink: SegmentSink, depth: number): Pending {
  if (bytes.length === 0) return undefined;
  const text = asText(bytes);
  if (text !== undefined) return expandValue(text, place, sink);
  const fields = depth < MAX_MESSAGE_DEPTH ? protobufFields(bytes) : undefined;
  if (fields) return expandMessage(fields, place, sink, depth + 1);
  return expandBytes(bytes, place, sink);
}

/** A protobuf message when the bytes parse whole as one, whatever they look like; else any blob. */
function expandMessageOrBytes(buf: Buffer, place: Place, sink: SegmentSink): Pending {
  const fields = place.chain.length < MAX_CHAIN ? protobufFields(buf) : undefined;
  return fields ? expandMessage(fields, within(place, 'protobuf'), sink, 0) : expandBytes(buf, place, sink);
}

/** gRPC messages, each a protobuf message (compressed ones are inflated by the blob path first). */
function expandGrpc(frames: { compressed: boolean; message: Buffer }[], from: number, place: Place, sink: SegmentSink): Pending {
  for (let i = from; i < frames.length; i++) {
    const f = frames[i];
    const pending = f.compressed ? expandBytes(f.message, place, sink) : expandMessageOrBytes(f.message, place, sink);
    if (pending) return later(pending, expandGrpc, frames, i + 1, place, sink);
  }
  return undefined;
}

/** A body declared protobuf or gRPC: frames when it is framed, a message when it parses as one. */
export function expandProtobufBody(buf: Buffer, place: Place, sink: SegmentSink): Pending {
  const frames = grpcFrames(buf);
  return frames ? expandGrpc(frames, 0, place, sink) : expandMessageOrBytes(buf, place, sink);
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
  // A gRPC frame opens with a 0 or 1 byte, which no text does; its few control bytes would pass for text.
  const frames = buf.length >= 5 && buf[0] <= 1 ? grpcFrames(buf) : undefined;
  if (frames) return expandGrpc(frames, 0, place, sink);
  const text = utf8Text(buf);
  if (text !== undefined) {
    // JSON holds no raw control characters, so a body that parses needs no count of them (a scan of the
    // whole body, for the commonest body there is); one that does not is not parsed a second time.
    const trimmed = text.trim();
    const jsonLeaves = jsonAt(trimmed, jsonRoot(place.path));
    if (jsonLeaves) return expandLeaves(jsonLeaves, 0, place, sink, true);
    if (!binaryText(text, buf.length)) return expandNotJson(text, trimmed, place, sink);
  }
  const fields = place.chain.length < MAX_CHAIN ? protobufFields(buf) : undefined;
  if (fields) return expandMessage(fields, within(place, 'protobuf'), sink, 0);
  return expandRuns(printableRuns(buf), 0, place, sink);
}

function expandRuns(runs: { text: string; offset: number }[], from: number, place: Place, sink: SegmentSink): Pending {
  for (let i = from; i < runs.length; i++) {
    const run = runs[i];
    const pending = expandValue(run.text, child(place, place.path ? `${place.path}@${run.offset}` : `@${run.offset}`, place.key), sink);
    if (pending) return later(pending, expandRuns, runs, i + 1, place, sink);
  }
  return undefined;
}
