// The dashboard's pure helpers: POSIX quoting for "copy as cURL", finding paths, mark ranges, feed filter.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { shellQuote, toCurl } from '../../dashboard/src/lib/curl';
import { collectPaths, locate, markRanges, parsePath } from '../../dashboard/src/lib/paths';
import { compileFilter, EMPTY_FILTER, filterToQuery } from '../../dashboard/src/lib/filter';
import type { FlowSummary } from '../../shared/types';

/** What a real POSIX shell makes of a word: the argv it would pass. */
function shellArgs(cmdline: string): string[] {
  const out = execFileSync('/bin/sh', ['-c', `for a in ${cmdline}; do printf '%s\\0' "$a"; done`]).toString();
  return out.split('\0').slice(0, -1);
}

describe('copy as cURL', () => {
  it('quotes anything so the shell sees it literally', () => {
    const nasty = [`it's`, `$(touch /tmp/pwned)`, '`id`', '"; rm -rf ~; "', 'a\nb', '\\', "''", '$HOME *', '!'];
    for (const s of nasty) expect(shellArgs(shellQuote(s))).toEqual([s]);
  });

  it('builds method, URL, headers and body, each one shell word', () => {
    const cmd = toCurl({
      method: 'POST',
      url: "https://h.example/p?a=1&b='x'",
      requestHeaders: { 'content-type': 'application/json', 'content-length': '12', 'x-a': ['1', "o'k"] },
      requestBody: { text: `{"q":"$(id)"}`, size: 12 },
    });
    expect(cmd.startsWith('curl ')).toBe(true);
    const args = shellArgs(cmd.slice(5));
    expect(args).toEqual([
      '-X', 'POST', "https://h.example/p?a=1&b='x'",
      '-H', 'content-type: application/json', '-H', 'x-a: 1', '-H', "x-a: o'k",
      '--data-binary', `{"q":"$(id)"}`,
    ]);
  });
});

describe('finding paths', () => {
  it('parses dotted, indexed and quoted keys', () => {
    expect(parsePath('$.device.imei')).toEqual(['device', 'imei']);
    expect(parsePath('$.list[2].v')).toEqual(['list', 2, 'v']);
    expect(parsePath(`$["a.b]\\"c"].d`)).toEqual(['a.b]"c', 'd']);
    expect(parsePath("$['x y']")).toEqual(['x y']);
    expect(parsePath('imsi')).toEqual(['imsi']);
  });

  it('locates the deepest present node', () => {
    const present = collectPaths({ a: { b: 'encoded-json-string' }, l: [1, { k: 2 }] });
    expect(locate('$.a.b', present)).toBe('.a.b');
    expect(locate('$.a.b.inner.deeper', present)).toBe('.a.b');
    expect(locate('$.l[1].k', present)).toBe('.l[1].k');
    expect(locate('$.nope', present)).toBeUndefined();
  });

  it('marks literal occurrences, or the whole value when the value is encoded', () => {
    expect(markRanges('id=865123456789012&x=865123456789012', [{ tag: 0, value: '865123456789012' }])).toEqual([
      { start: 3, end: 18, tags: [0] },
      { start: 21, end: 36, tags: [0] },
    ]);
    expect(markRanges('e10adc3949ba59abbe56e057f20f883e', [{ tag: 1, value: '865123456789012' }])).toEqual([{ start: 0, end: 32, tags: [1] }]);
    expect(markRanges('no match here', [{ tag: 1, value: 'zzz' }], false)).toEqual([]);
  });
});

describe('feed filter', () => {
  const flow = (over: Partial<FlowSummary>): FlowSummary => ({
    id: 1, client: '10.0.0.2', method: 'GET', url: 'https://a.example/x', host: 'a.example', size: 0, start: 0, findings: [], tags: [], ...over,
  });
  const imei = { type: 'imei', value: '1', where: 'body', path: '$.i', encoding: 'plain', confidence: 'pattern' } as const;

  it('combines device, type, confidence, host, flagged and text', () => {
    const f = compileFilter({ ...EMPTY_FILTER, type: 'imei', confidence: 'known' });
    expect(f(flow({ findings: [imei] }))).toBe(false);
    expect(f(flow({ findings: [{ ...imei, confidence: 'known' }] }))).toBe(true);
    expect(compileFilter({ ...EMPTY_FILTER, device: 'Phone' })(flow({ device: 'Phone' }))).toBe(true);
    expect(compileFilter({ ...EMPTY_FILTER, device: '10.0.0.2' })(flow({ device: 'Phone' }))).toBe(true);
    expect(compileFilter({ ...EMPTY_FILTER, host: 'A.EX' })(flow({}))).toBe(true);
    expect(compileFilter({ ...EMPTY_FILTER, flagged: true })(flow({}))).toBe(false);
    // the expression is the server's to evaluate (it reaches into bodies): the local predicate leaves it alone
    expect(compileFilter({ ...EMPTY_FILTER, q: 'nowhere' })(flow({}))).toBe(true);
    expect(filterToQuery({ ...EMPTY_FILTER, q: '~dev redmi & ~cc CN' })).toBe('filter=%7Edev+redmi+%26+%7Ecc+CN');
    expect(filterToQuery({ ...EMPTY_FILTER, flagged: true, type: 'imei', host: 'a b' })).toBe('flagged=1&type=imei&host=a+b');
  });
});
