import { createHash } from 'node:crypto';
import { deflateSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createDetector, type ScanInput } from '../../proxy/detect';
import { luhnCheckDigit } from '../../proxy/detect/patterns/validators';
import { parseIdentifiers } from '../../shared/identifiers';

/** One wrapping step as an SDK would apply it to a string, and the name the detector reports for it. */
const STEPS = {
  base64: (s: Buffer) => ({ out: Buffer.from(s.toString('base64')), name: 'base64' }),
  hex: (s: Buffer) => ({ out: Buffer.from(s.toString('hex')), name: 'hex' }),
  urlencoded: (s: Buffer) => ({ out: Buffer.from(encodeURIComponent(s.toString('latin1'))), name: 'urlencoded' }),
  'gzip+base64': (s: Buffer) => ({ out: Buffer.from(gzipSync(s).toString('base64')), name: 'gzip+base64' }),
  'deflate+base64': (s: Buffer) => ({ out: Buffer.from(deflateSync(s).toString('base64')), name: 'deflate+base64' }),
  'json-string': (s: Buffer) => ({ out: Buffer.from(JSON.stringify({ v: s.toString('latin1') })), name: '' }),
};
type Step = keyof typeof STEPS;

const imei = fc.stringMatching(/^(86|35)\d{12}$/).map((body) => body + luhnCheckDigit(body));
const value = fc.oneof(
  imei.map((v) => ({ type: 'imei' as const, value: v })),
  fc.stringMatching(/^46000\d{10}$/).map((v) => ({ type: 'imsi' as const, value: v })),
  fc.stringMatching(/^[0-9a-f]{16}$/).map((v) => ({ type: 'android_id' as const, value: v })),
  fc.uuid().map((v) => ({ type: 'advertising_id' as const, value: v })),
  fc.stringMatching(/^[a-z]{3,10}\.[a-z0-9]{2,6}@[a-z]{3,8}\.(com|org|cn)$/).map((v) => ({ type: 'email' as const, value: v })),
);
const hashing = fc.constantFrom<[string, string] | undefined>(undefined, ['md5', 'hex'], ['sha1', 'hex'], ['sha256', 'base64']);
const chain = fc.array(fc.constantFrom(...(Object.keys(STEPS) as Step[])), { minLength: 0, maxLength: 3 });

describe('known values survive encodings', () => {
  it('finds any known value through any chain of up to three encodings', async () => {
    await fc.assert(
      fc.asyncProperty(value, hashing, chain, fc.boolean(), async (known, hash, steps, inUrl) => {
        const ids = parseIdentifiers({ devices: [{ name: 'd', [known.type]: [known.value] }] });
        if (!ids.ok) throw new Error(ids.error);
        const detector = createDetector(ids.value);
        let data = Buffer.from(known.value);
        const names: string[] = [];
        if (hash) {
          const digest = createHash(hash[0]).update(data).digest();
          data = Buffer.from(hash[1] === 'hex' ? digest.toString('hex') : digest.toString('base64'));
          names.push(...hash);
        }
        for (const step of steps) {
          const { out, name } = STEPS[step](data);
          // escaping text that needs none changes nothing, and leaves nothing to report
          if (name && !out.equals(data)) names.push(name);
          data = out;
        }
        const payload = data.toString('latin1');
        const input: ScanInput = inUrl
          ? { url: `https://t.example/c?x=${encodeURIComponent(payload)}`, headers: {} }
          : { url: 'https://t.example/c', headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify({ data: payload })) };
        const { findings } = await detector.scanRequest(input);
        const mine = findings.filter((f) => f.type === known.type && f.confidence === 'known');
        expect(mine.length, `${steps.join(' > ')} ${JSON.stringify(findings)}`).toBeGreaterThan(0);
        // The reported chain is what was applied, outermost last (the URL's own escaping aside).
        const expected = [...names, ...(inUrl && encodeURIComponent(payload) !== payload ? ['urlencoded'] : [])].join('+') || 'plain';
        expect(mine.map((f) => f.encoding)).toContain(expected);
      }),
      { numRuns: 150, seed: 4242 },
    );
  });
});
