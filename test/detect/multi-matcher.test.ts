import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MultiMatcher, WINDOW } from '../../proxy/detect/known/multi-matcher';

/** Every (pattern, start) by brute force, in the order the matcher's callers sort them. */
function naive(patterns: string[], text: string): string[] {
  const out: string[] = [];
  patterns.forEach((p, id) => {
    if (p.length < WINDOW) return;
    for (let at = text.indexOf(p); at >= 0; at = text.indexOf(p, at + 1)) out.push(`${id}@${at}`);
  });
  return out.sort();
}

describe('MultiMatcher', () => {
  it('finds every occurrence of every pattern exactly once, whatever the shortest pattern sets the stride to', () => {
    const alphabet = fc.constantFrom('a', 'b', '1', '2');
    const word = (min: number, max: number) => fc.array(alphabet, { minLength: min, maxLength: max }).map((cs) => cs.join(''));
    fc.assert(
      fc.property(fc.array(word(WINDOW - 2, 20), { minLength: 1, maxLength: 8 }), word(0, 120), (patterns, noise) => {
        // plant each pattern somewhere so that matches are not left to chance
        const text = patterns.reduce((t, p, i) => t.slice(0, (i * 13) % (t.length + 1)) + p + t.slice((i * 13) % (t.length + 1)), noise);
        const found: string[] = [];
        new MultiMatcher(patterns).forEach(text, (id, start) => found.push(`${id}@${start}`));
        expect(found.sort()).toEqual(naive(patterns, text));
      }),
      { numRuns: 400, seed: 7 },
    );
  });
});
