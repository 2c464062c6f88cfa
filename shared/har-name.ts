// HAR file names. Method and host come from captured traffic, which is hostile: only a strict allowlist of
// characters reaches a file name, so no path separator, quote, control character or leading dot gets through.

const safe = (text: string, allowed: RegExp, max: number): string =>
  text
    .replace(allowed, '_')
    .replace(/\.{2,}/g, '.')
    .replace(/^[._]+|[._]+$/g, '')
    .slice(0, max);

/** One flow's HAR: `flow-<id>-<METHOD>-<host>.har`, e.g. `flow-42-POST-api.xiaomi.com.har`. */
export function flowHarName(flow: { id: number; method: string; host: string }): string {
  const method = flow.method.toUpperCase().replace(/[^A-Z]/g, '').slice(0, 10);
  const host = safe(flow.host.toLowerCase(), /[^a-z0-9.-]/g, 64);
  return ['flow', String(Math.trunc(flow.id)), method, host].filter(Boolean).join('-') + '.har';
}

/** An export of many flows: named by when it was made. */
export function exportHarName(now = new Date()): string {
  return `leakscope-${now.toISOString().slice(0, 19).replace(/:/g, '')}.har`;
}
