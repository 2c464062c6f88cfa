// Columns for the terminal. Cells may hold captured text (hosts, paths): control characters are shown as `?` so
// nothing captured can drive the terminal.

const MAX_WIDTH = 48;

// eslint-disable-next-line no-control-regex
const printable = (s: string) => s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');

export function textTable(header: string[], rows: string[][]): string[] {
  const clean = rows.map((r) => r.map(printable));
  const widths = header.map((h, i) => Math.min(MAX_WIDTH, Math.max(h.length, ...clean.map((r) => r[i].length))));
  const line = (cells: string[]) => cells.map((c, i) => (c.length > widths[i] ? `${c.slice(0, widths[i] - 1)}…` : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...clean.map(line)];
}
