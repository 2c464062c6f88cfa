// gRPC: a call's body is a stream of length-prefixed messages (a compressed flag, 4 bytes of big-endian length,
// the payload), not a request to hold whole: a bidirectional call would wait forever for a body that ends only
// when the call does. Each message is judged as it arrives and passed on unchanged, in order, once judged.
import { Transform, type TransformCallback } from 'node:stream';
import type { Headers } from '../../shared/types';
import { decodeContentEncoding } from '../util/content-encoding';
import { headerValue } from './body';
import { DECODED_BYTES } from './limits';

const PREFIX_BYTES = 5;

export function isGrpc(headers: Headers): boolean {
  return /^application\/grpc(?:[+;]|$)/i.test(headerValue(headers, 'content-type') ?? '');
}

/** What is done with one message (its payload decompressed, and the frame as sent): resolves with a reason to cut the call, if any. */
export type MessageJudge = (payload: Buffer, frame: Buffer) => Promise<{ close?: string }>;

/** Splits the phone's body into messages; each leaves once `judge` has passed it. A refusal fails the stream. */
export function grpcMessages(headers: Headers, judge: MessageJudge): Transform {
  const encoding = headerValue(headers, 'grpc-encoding');
  let pending: Buffer = Buffer.alloc(0);
  const next = async (stream: Transform): Promise<void> => {
    while (pending.length >= PREFIX_BYTES) {
      const size = pending.readUInt32BE(1);
      if (pending.length < PREFIX_BYTES + size) return;
      const frame = pending.subarray(0, PREFIX_BYTES + size);
      pending = pending.subarray(frame.length);
      const raw = frame.subarray(PREFIX_BYTES);
      const payload = frame[0] === 1 && encoding ? (await decodeContentEncoding(raw, encoding, DECODED_BYTES)).data : raw;
      const verdict = await judge(payload, frame);
      if (verdict.close) throw new Error(verdict.close);
      stream.push(frame);
    }
  };
  return new Transform({
    transform(chunk: Buffer, _encoding, done: TransformCallback) {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      next(this).then(() => done(), (err: Error) => done(err));
    },
    // Bytes that never made a whole message go on as they came: the server answers a truncated call itself.
    flush(done: TransformCallback) {
      done(null, pending.length ? pending : undefined);
    },
  });
}
