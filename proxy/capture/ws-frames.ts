// WebSocket framing (RFC 6455 §5.2), read incrementally from a byte stream. Each frame keeps its bytes exactly as
// they came, so a message passed on unchanged is the phone's own frames, mask and fragmentation included.
import crypto from 'node:crypto';

export const OPCODE = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 } as const;

export interface Frame {
  fin: boolean;
  opcode: number;
  /** unmasked payload */
  payload: Buffer;
  /** the frame as it was on the wire */
  raw: Buffer;
}

export class FrameTooLarge extends Error {}

/** Frames from a stream of bytes; bytes of a frame not yet whole are kept until it is. */
export class FrameReader {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly maxPayload: number) {}

  /** The frames `chunk` completes. Throws FrameTooLarge for a frame declaring more than `maxPayload`. */
  push(chunk: Buffer): Frame[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const frames: Frame[] = [];
    for (let frame = this.next(); frame; frame = this.next()) frames.push(frame);
    return frames;
  }

  private next(): Frame | undefined {
    const b = this.pending;
    if (b.length < 2) return undefined;
    const masked = (b[1] & 0x80) !== 0;
    let length = b[1] & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (b.length < 4) return undefined;
      length = b.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      if (b.length < 10) return undefined;
      const declared = b.readBigUInt64BE(2);
      if (declared > BigInt(this.maxPayload)) throw new FrameTooLarge(`a WebSocket frame of ${declared} bytes`);
      length = Number(declared);
      offset = 10;
    }
    if (length > this.maxPayload) throw new FrameTooLarge(`a WebSocket frame of ${length} bytes`);
    const mask = masked ? b.subarray(offset, offset + 4) : undefined;
    if (masked) offset += 4;
    if (b.length < offset + length) return undefined;
    const payload = Buffer.from(b.subarray(offset, offset + length));
    if (mask) for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i & 3];
    const raw = Buffer.from(b.subarray(0, offset + length));
    this.pending = b.subarray(offset + length);
    return { fin: (b[0] & 0x80) !== 0, opcode: b[0] & 0x0f, payload, raw };
  }
}

/** One unfragmented frame; `masked` as a client must send (RFC 6455 §5.3), with a fresh random key. */
export function encodeFrame(opcode: number, payload: Buffer, masked: boolean): Buffer {
  const length = payload.length;
  const extended = length < 126 ? 0 : length < 0x10000 ? 2 : 8;
  const head = Buffer.alloc(2 + extended + (masked ? 4 : 0));
  head[0] = 0x80 | opcode;
  head[1] = (masked ? 0x80 : 0) | (extended === 0 ? length : extended === 2 ? 126 : 127);
  if (extended === 2) head.writeUInt16BE(length, 2);
  if (extended === 8) head.writeBigUInt64BE(BigInt(length), 2);
  if (!masked) return Buffer.concat([head, payload]);
  const key = crypto.randomBytes(4);
  key.copy(head, 2 + extended);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i] ^= key[i & 3];
  return Buffer.concat([head, body]);
}

/** Data frames gathered into messages: a message is whole at the frame with FIN. Control frames come alone. */
export class MessageAssembler {
  private frames: Frame[] = [];

  /** The message (its frames and whole payload) this data frame completes, if it does. */
  add(frame: Frame): { opcode: number; data: Buffer; frames: Frame[] } | undefined {
    this.frames.push(frame);
    if (!frame.fin) return undefined;
    const frames = this.frames;
    this.frames = [];
    return { opcode: frames[0].opcode, data: Buffer.concat(frames.map((f) => f.payload)), frames };
  }
}
