import { describe, expect, it } from 'vitest';
import { json, jsonAt } from '../../proxy/detect/decode/containers';

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
        const relative = json(text)!.map((l) => ({ ...l, path: joined(base, l.path), parent: joined(base, l.parent) }));
        expect(jsonAt(text, base || '$')).toEqual(relative);
      }
    });
  }
});
