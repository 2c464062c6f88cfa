import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { jsonAt, tooShort } from '../../proxy/detect/decode/containers';
import { MIN_SEGMENT } from '../../proxy/detect/decode/sink';

// What the decoding layer did before jsonAt: relative JSON paths joined to the enclosing path.
function joined(base: string, suffix: string): string {
  if (!base) return `$${suffix}`;
  if (!suffix) return base;
  return suffix[0] === '.' || suffix[0] === '[' ? base + suffix : `${base}.${suffix}`;
}

describe('jsonAt', () => {
  const texts = [
    '{"a":{"b":[1234567,"xyzxyz",{"c d":"qwerty"}]},"865123456789012":{"imei":"865123456789012"}}',
    '[["abcdefg",[123456]],{"lat":39.9042,"lon":116.4074}]',
    '{"big":[89860012345678901234,1],"k":"v"}',
  ];
  for (const base of ['', 'payload', '$.outer', 'a[0]']) {
    it(`builds the same paths as joining relative ones to ${JSON.stringify(base)}`, () => {
      for (const text of texts) {
        const relative = jsonAt(text, '')!.map((l) => ({ ...l, path: joined(base, l.path), parent: joined(base, l.parent) }));
        expect(jsonAt(text, base || '$')).toEqual(relative);
      }
    });
  }
});

describe('numbers too short to scan', () => {
  it('are only numbers String() writes in fewer than MIN_SEGMENT characters', () => {
    const number = fc.oneof(
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.integer({ min: -1_000_000, max: 10_000_000 }).map((k) => k / 100),
      fc.integer({ min: -100_000, max: 1_000_000 }).map((k) => k / 1000),
      fc.integer({ min: -2_000_000, max: 2_000_000 }),
    );
    fc.assert(
      fc.property(number, (n) => {
        if (tooShort(n)) expect(String(n).length).toBeLessThan(MIN_SEGMENT);
      }),
      { numRuns: 20_000 },
    );
    for (const n of [57.32, 0.57, -9.99, 99.99, 0.05, 1.5, 99999, -9999]) expect(tooShort(n)).toBe(true);
    for (const n of [0.1 + 0.2, 100.5, -10.5, 99.999, 123456, -10000]) expect(tooShort(n)).toBe(false);
  });
});
