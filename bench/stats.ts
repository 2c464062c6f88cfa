// Order statistics for the benchmarks: nearest rank, no interpolation, so every value reported was measured.

/** The value at fraction `q` (0–1) of `sorted`, which is in ascending order; NaN when it is empty. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** The middle of `xs` (the upper middle of an even count); `xs` is left as it is. */
export function median(xs: readonly number[]): number {
  return quantile([...xs].sort((a, b) => a - b), 0.5);
}
