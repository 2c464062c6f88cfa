// A Map that keeps at most `capacity` entries, dropping the least recently used first. For caches keyed by
// something a client chooses (a CONNECT host, an SNI name), which must not grow with whatever it sends.
// A Map iterates in insertion order, so re-inserting an entry on each use keeps the least recently used first.

export class LruMap<K, V> {
  private readonly map = new Map<K, V>();

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`LruMap capacity must be a positive integer, not ${capacity}`);
  }

  get size(): number {
    return this.map.size;
  }

  /** The value for `key`, which becomes the most recently used. */
  get(key: K): V | undefined {
    if (!this.map.has(key)) return undefined;
    const value = this.map.get(key) as V;
    this.map.delete(key);
    this.map.set(key, value);
    return value;
  }

  /** Stores `value` as the most recently used, dropping the least recently used entry if over capacity. */
  set(key: K, value: V): this {
    this.map.delete(key);
    this.map.set(key, value);
    while (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value as K);
    return this;
  }

  /** The values, the least recently used first; reading them does not count as use. */
  values(): IterableIterator<V> {
    return this.map.values();
  }

  delete(key: K): boolean {
    return this.map.delete(key);
  }

  /** Deletes `key` only while it still maps to `value`: a late failure of an evicted entry must not drop its successor. */
  deleteIf(key: K, value: V): boolean {
    return this.map.get(key) === value && this.map.delete(key);
  }
}
