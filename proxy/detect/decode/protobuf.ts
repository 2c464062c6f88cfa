// Protocol Buffers without a schema: the wire format read with protobufjs's Reader, fields named by number.
// Firebase, Google's app measurement and gRPC services send their identifiers this way, numbers as varints.
import protobuf from 'protobufjs/minimal.js';

const { Reader } = protobuf;

/** Field numbers go to 2^29, but no real schema comes near 2^20, and random bytes read as huge ones. */
const MAX_FIELD = 2 ** 20;

export type ProtoField =
  | { field: number; wire: 0; low: number; high: number }
  | { field: number; wire: 1; low: number; high: number; double: number }
  | { field: number; wire: 2; bytes: Buffer }
  | { field: number; wire: 5; float: number };

/**
 * The Reader is lenient with varints: one cut short by the end of the buffer is read as if it had ended, and
 * a 32-bit read may run past the end. A varint ends in a byte without its top bit.
 */
const cutShort = (buf: Buffer, pos: number) => pos > buf.length || (buf[pos - 1] & 0x80) !== 0;

/** No byte without its top bit among the `max` bytes of `buf` from `pos`: no varint ends there. */
function unended(buf: Buffer, pos: number, max: number): boolean {
  const end = Math.min(buf.length, pos + max);
  for (let i = pos; i < end; i++) if (buf[i] < 0x80) return false;
  return true;
}

// Where the Reader would throw, the checks below say so first: a thrown RangeError costs more than reading
// a whole small message, and most blobs tried as messages are not one. Each rejects only what the Reader's
// read at that point throws on (or what `cutShort` then refuses), so the outcome is the same.
/** `uint32` throws on a varint that does not end within the last 4 bytes. */
const uint32Throws = (buf: Buffer, pos: number) => buf.length - pos < 5 && unended(buf, pos, 5);
/** `uint64` throws on, or reads cut short, a varint that does not end within 10 bytes. */
const uint64Fails = (buf: Buffer, pos: number) => unended(buf, pos, 10);

/** Reads a length-delimited field, or undefined where `reader.bytes()` would throw: its length runs past the end. */
function lengthDelimited(reader: protobuf.Reader, buf: Buffer): Buffer | undefined {
  const at = reader.pos;
  if (uint32Throws(buf, at)) return undefined;
  const length = reader.uint32();
  if (reader.pos + length > reader.len) return undefined;
  reader.pos = at;
  return reader.bytes() as Buffer;
}

/**
 * The fields of `buf` read as one protobuf message, or undefined when it is not one: a wire type that is
 * not varint, 64-bit, length-delimited or 32-bit (groups are long deprecated), field number 0 or past
 * MAX_FIELD, or a field that runs past the end. The whole buffer must parse.
 */
export function protobufFields(buf: Buffer): ProtoField[] | undefined {
  if (buf.length === 0) return undefined;
  const reader = Reader.create(buf);
  const fields: ProtoField[] = [];
  try {
    while (reader.pos < reader.len) {
      if (uint32Throws(buf, reader.pos)) return undefined;
      const tag = reader.uint32();
      if (cutShort(buf, reader.pos)) return undefined;
      const field = tag >>> 3;
      if (field === 0 || field >= MAX_FIELD) return undefined;
      switch (tag & 7) {
        case 0: {
          if (uint64Fails(buf, reader.pos)) return undefined;
          const v = reader.uint64() as unknown as { low: number; high: number };
          if (cutShort(buf, reader.pos)) return undefined;
          fields.push({ field, wire: 0, low: v.low >>> 0, high: v.high >>> 0 });
          break;
        }
        case 1: {
          const at = reader.pos;
          if (at + 8 > reader.len) return undefined;
          const v = reader.fixed64() as unknown as { low: number; high: number };
          fields.push({ field, wire: 1, low: v.low >>> 0, high: v.high >>> 0, double: buf.readDoubleLE(at) });
          break;
        }
        case 2: {
          const bytes = lengthDelimited(reader, buf);
          if (!bytes) return undefined;
          fields.push({ field, wire: 2, bytes });
          break;
        }
        case 5:
          if (reader.pos + 4 > reader.len) return undefined;
          fields.push({ field, wire: 5, float: reader.float() });
          break;
        default:
          return undefined;
      }
    }
  } catch {
    // a read the checks above do not foresee (an over-long varint) that runs past the end
    return undefined;
  }
  return reader.pos === reader.len ? fields : undefined;
}

/** The decimal texts a 64-bit integer field stands for: unsigned, and signed when its top bit is set. */
export function integerTexts(low: number, high: number): string[] {
  // below 2^53 a double holds it exactly, and String writes its digits: no BigInt
  if (high < 0x200000) return [String(high * 0x100000000 + low)];
  const unsigned = (BigInt(high) << 32n) | BigInt(low);
  return high >= 0x80000000 ? [unsigned.toString(), (unsigned - (1n << 64n)).toString()] : [unsigned.toString()];
}

/** A float or double worth a segment: what could be a coordinate (known locations are matched in text). */
export function coordinateText(n: number): string | undefined {
  const size = Math.abs(n);
  return Number.isFinite(n) && size >= 0.001 && size <= 180 && !Number.isInteger(n) ? String(n) : undefined;
}

/**
 * Whether the first `n` bytes of `b` read as a protobuf message, as `protobufFields` would, without building
 * it: what `barren` cannot see (a message of varints has no printable run), checked before a decoded blob is
 * dropped.
 */
export function protobufShaped(b: Uint8Array, n: number): boolean {
  let i = 0;
  while (i < n) {
    let tag = 0;
    let scale = 1;
    let c: number;
    do {
      if (i >= n || scale > 2 ** 28) return false;
      c = b[i++];
      tag += (c & 0x7f) * scale;
      scale *= 128;
    } while (c & 0x80);
    if (tag < 8 || tag >= MAX_FIELD * 8) return false;
    const wire = tag % 8;
    if (wire === 0) {
      let k = 0;
      while (i < n && b[i] & 0x80 && k < 9) (i++, k++);
      if (i >= n || b[i] & 0x80) return false;
      i++;
    } else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else if (wire === 2) {
      let len = 0;
      let s = 1;
      do {
        if (i >= n || s > 2 ** 28) return false;
        c = b[i++];
        len += (c & 0x7f) * s;
        s *= 128;
      } while (c & 0x80);
      i += len;
    } else return false;
  }
  return i === n && n > 0;
}

/**
 * The messages of a gRPC body (`[compressed flag:1][length:4, big-endian][message]`, one or more), or
 * undefined when the bytes are not exactly a sequence of such frames.
 */
export function grpcFrames(buf: Buffer): { compressed: boolean; message: Buffer }[] | undefined {
  const frames: { compressed: boolean; message: Buffer }[] = [];
  let at = 0;
  while (at < buf.length) {
    if (at + 5 > buf.length || buf[at] > 1) return undefined;
    const length = buf.readUInt32BE(at + 1);
    const end = at + 5 + length;
    if (end > buf.length) return undefined;
    frames.push({ compressed: buf[at] === 1, message: buf.subarray(at + 5, end) });
    at = end;
  }
  return frames.length > 0 ? frames : undefined;
}
