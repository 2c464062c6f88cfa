import type { Body, Flow, Headers } from '../../../shared/types';

/**
 * POSIX-shell single quoting: everything between single quotes is literal; a single quote itself becomes
 * '\'' (close, escaped quote, reopen). Safe for any byte sequence except NUL, which a shell argument cannot hold.
 */
export function shellQuote(s: string): string {
  return `'${s.replace(/\0/g, '').replace(/'/g, `'\\''`)}'`;
}

/** Headers curl computes itself, or that would break a replay. */
const SKIP = new Set(['content-length', 'host', 'connection', 'proxy-connection', 'transfer-encoding']);

function headerLines(headers: Headers): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (SKIP.has(name.toLowerCase())) continue;
    for (const v of Array.isArray(value) ? value : [value]) out.push(`${name}: ${v}`);
  }
  return out;
}

/** `curl` command line for the request as the phone sent it. Only ever copied, never run by us. */
export function toCurl(flow: Pick<Flow, 'method' | 'url' | 'requestHeaders' | 'requestBody'>): string {
  const parts: string[] = ['curl'];
  const method = flow.method.toUpperCase();
  const body: Body | undefined = flow.requestBody;
  const hasBody = Boolean(body && body.text.length > 0);
  if (method !== 'GET' || hasBody) parts.push('-X', shellQuote(method));
  parts.push(shellQuote(flow.url));
  for (const h of headerLines(flow.requestHeaders)) parts.push('-H', shellQuote(h));
  const encoded = Object.entries(flow.requestHeaders).some(
    ([k, v]) => k.toLowerCase() === 'content-encoding' && String(v).trim() !== '' && String(v) !== 'identity',
  );
  if (encoded && body?.decoded) {
    // The stored body is already decoded: do not claim it is still compressed.
    const i = parts.findIndex((p) => /^'content-encoding:/i.test(p));
    if (i > 0) parts.splice(i - 1, 2);
  }
  if (body && hasBody) {
    if (body.encoding === 'base64') {
      parts.push('--data-binary', '@-');
      return `printf %s ${shellQuote(body.text)} | base64 -d | ${parts.join(' ')}`;
    }
    parts.push('--data-binary', shellQuote(body.text));
  }
  return parts.join(' ');
}
