import { describe, expect, it } from 'vitest';
import { createDetector } from '../../proxy/detect';
import { requestSegments } from '../../proxy/detect/decode/request';
import { confirmHit, patternHits } from '../../proxy/detect/patterns/run';
import { EMPTY_IDENTIFIERS } from '../../shared/identifiers';
import { loadCorpus, toInput } from './corpus-eval';

const detector = createDetector(EMPTY_IDENTIFIERS);
const phones = async (body: unknown) =>
  (await detector.scanRequest({ url: 'https://a.example.com/c', headers: {}, body: Buffer.from(JSON.stringify(body)) })).findings
    .filter((f) => f.type === 'phone_number')
    .map((f) => `${f.value}@${f.path}`);

describe('weak phone candidates held back until their list is long enough', () => {
  it('confirming held candidates gives exactly the hits of validating them at once, over the corpus', async () => {
    for (const request of loadCorpus().requests) {
      for (const segment of await requestSegments(toInput(request), 1 << 20)) {
        const held = patternHits(segment, [], true).map((h) => confirmHit(h)).filter((h) => h !== undefined);
        expect(held).toEqual(patternHits(segment));
      }
    }
  });

  it('reports a list only with enough distinct valid numbers', async () => {
    expect(await phones({ n: ['+12025550143', '+12025550144'] })).toEqual([]);
    expect(await phones({ n: ['+12025550143', '+12025550143', '+12025550143'] })).toEqual([]);
    // three candidates, two numbers
    expect(await phones({ n: ['+12025550143', '+1 202-555-0143', '+12025550144'] })).toEqual([]);
    expect(await phones({ n: ['+12025550143', '+1 202-555-0144', '+12025550145', '1709956210677'] })).toEqual([
      '+12025550143@$.n[0]',
      '+12025550144@$.n[1]',
      '+12025550145@$.n[2]',
    ]);
    // a telling key needs no siblings
    expect(await phones({ phone: '+12025550143' })).toEqual(['+12025550143@$.phone']);
  });
});
