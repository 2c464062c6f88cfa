import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { barren, base64Text, decodeBase64ToScratch, decodeHexToScratch, hexText, scratch, validUtf8 } from '../../proxy/detect/decode/bytes';
import { expandBytes } from '../../proxy/detect/decode/expand';
import { protobufFields, protobufShaped } from '../../proxy/detect/decode/protobuf';
import { SegmentSink, type Place } from '../../proxy/detect/decode/sink';

const RUNS = 3000;
const chars = (alphabet: string, min: number, max: number) =>
  fc.array(fc.constantFrom(...alphabet), { minLength: min, maxLength: max }).map((cs) => cs.join(''));
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** Bytes leaning to what makes the checks interesting: UTF-8 lead and continuation bytes, controls, ASCII. */
const bytes = fc
  .array(fc.oneof(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0x80, max: 0xf5 }), fc.integer({ min: 0x20, max: 0x7e })), { maxLength: 40 })
  .map((a) => Uint8Array.from(a));
const place: Place = { where: 'body', path: '', chain: [], key: '', parent: '', inList: false, parentKey: '' };

describe('decode checks before a Buffer is made', () => {
  it('decode base64 text (standard, URL-safe, padded) as Buffer.from does', () => {
    const text = fc.tuple(fc.oneof(chars(`${B64}+/`, 1, 60), chars(`${B64}-_`, 1, 60)), fc.constantFrom('', '=', '==')).map(([t, pad]) => t + pad);
    fc.assert(
      fc.property(text, (s) => {
        if (!base64Text(s)) return;
        const n = decodeBase64ToScratch(s);
        expect(Buffer.from(scratch().subarray(0, n))).toEqual(Buffer.from(s, 'base64'));
      }),
      { numRuns: RUNS },
    );
  });

  it('decode hex text as Buffer.from does', () => {
    fc.assert(
      fc.property(fc.oneof(chars('0123456789abcdef', 12, 60), chars('0123456789ABCDEF', 12, 60)), (s) => {
        if (!hexText(s)) return;
        const n = decodeHexToScratch(s);
        expect(Buffer.from(scratch().subarray(0, n))).toEqual(Buffer.from(s, 'hex'));
      }),
      { numRuns: RUNS },
    );
  });

  it('validUtf8 agrees with isUtf8 on UTF-8 text, cut or with a byte changed', () => {
    const text = fc.tuple(fc.string({ unit: 'binary', maxLength: 12 }), fc.nat(), fc.integer({ min: 0, max: 255 }), fc.boolean());
    fc.assert(
      fc.property(text, ([s, at, byte, cut]) => {
        const b = new Uint8Array(Buffer.from(s, 'utf8'));
        const mutated = b.length === 0 ? b : cut ? b.subarray(0, at % b.length) : b.map((x, i) => (i === at % b.length ? byte : x));
        expect(validUtf8(b, b.length)).toBe(true);
        expect(validUtf8(mutated, mutated.length)).toBe(isUtf8(mutated));
      }),
      { numRuns: RUNS * 3 },
    );
  });

  it('validUtf8 agrees with isUtf8', () => {
    fc.assert(fc.property(bytes, (b) => {
        expect(validUtf8(b, b.length)).toBe(isUtf8(b));
      }), { numRuns: RUNS * 3 });
  });

  it('protobufShaped says yes only to what protobufFields reads whole', () => {
    fc.assert(fc.property(bytes, (b) => {
        if (protobufShaped(b, b.length)) expect(protobufFields(Buffer.from(b))).toBeDefined();
      }), { numRuns: RUNS * 3 });
  });

  it('a barren blob that is no protobuf message yields no segment', () => {
    let seen = 0;
    fc.assert(
      fc.property(bytes, (b) => {
        if (b.length < 6 || !barren(b, b.length) || protobufShaped(b, b.length)) return;
        seen++;
        const sink = new SegmentSink(1 << 20);
        expect(expandBytes(Buffer.from(b), place, sink)).toBeUndefined();
        expect(sink.segments).toEqual([]);
      }),
      { numRuns: RUNS * 3 },
    );
    expect(seen).toBeGreaterThan(100);
  });
});
