// The bounded cache behind the per-host certificate and TLS context caches.
import { describe, expect, it } from 'vitest';
import { LruMap } from '../../proxy/util/lru-map';

describe('LruMap', () => {
  it('never holds more than its capacity', () => {
    const map = new LruMap<string, number>(3);
    for (let i = 0; i < 100; i++) {
      map.set(`host-${i}`, i);
      expect(map.size).toBe(Math.min(i + 1, 3));
    }
    expect([97, 98, 99].map((i) => map.get(`host-${i}`))).toEqual([97, 98, 99]);
    expect(map.get('host-96')).toBeUndefined();
  });

  it('drops the least recently used: a get counts as a use, so what was read survives', () => {
    const map = new LruMap<string, string>(3);
    map.set('a', 'A').set('b', 'B').set('c', 'C');
    expect(map.get('a')).toBe('A'); // order of use now b, c, a
    map.set('d', 'D'); // drops b
    expect(map.get('b')).toBeUndefined();
    expect(map.get('a')).toBe('A');
    map.set('e', 'E'); // c is now the least recently used
    expect(map.get('c')).toBeUndefined();
    expect([map.get('a'), map.get('d'), map.get('e')]).toEqual(['A', 'D', 'E']);
    expect(map.size).toBe(3);
  });

  it('counts setting an existing key as a use, without growing', () => {
    const map = new LruMap<string, number>(2);
    map.set('a', 1).set('b', 2).set('a', 3);
    expect(map.size).toBe(2);
    map.set('c', 4); // b, not a, is the least recently used
    expect(map.get('b')).toBeUndefined();
    expect(map.get('a')).toBe(3);
  });

  it('returns the very object stored (a cached promise stays the same promise)', () => {
    const map = new LruMap<string, Promise<number>>(2);
    const p = Promise.resolve(1);
    map.set('a', p);
    expect(map.get('a')).toBe(p);
  });

  it('deletes, and deleteIf only while the key still maps to that value', () => {
    const map = new LruMap<string, object>(2);
    const first = {};
    const second = {};
    map.set('a', first);
    map.set('a', second); // as after an eviction and a fresh entry for the same key
    expect(map.deleteIf('a', first)).toBe(false);
    expect(map.get('a')).toBe(second);
    expect(map.deleteIf('a', second)).toBe(true);
    expect(map.get('a')).toBeUndefined();
    map.set('b', first);
    expect(map.delete('b')).toBe(true);
    expect(map.size).toBe(0);
  });

  it('refuses a capacity that is not a positive integer', () => {
    for (const capacity of [0, -1, 1.5, Number.NaN]) expect(() => new LruMap(capacity)).toThrow(RangeError);
  });
});
