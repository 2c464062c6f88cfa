// The filter language over a real SQLite store: each expression narrows the flows as CONTRACT.md says, the store's
// SQL and the in-memory matcher (`scan --filter`) agree on every one, and bad expressions name their position.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FilterError, operatorCompletions, parseFilter, searchTerms } from '../../shared/filter';
import type { Flow } from '../../shared/types';
import { flowMatcher } from '../../proxy/filter/match';
import { FlowStore } from '../../proxy/store/flow-store';
import { TEXT_INDEX_FILE } from '../../proxy/store/flow-text-index';
import { draftFlow } from '../helpers/flows';
import { tempDir } from '../helpers/leakscope';

const T0 = Date.UTC(2026, 10, 3, 9, 0, 0);
const store = new FlowStore(tempDir());
afterAll(() => store.close());

const redmi = { client: '192.168.1.23', device: 'RedMi 1S' };
const pixel = { client: '192.168.1.40', device: 'Pixel 7' };
const stored: Flow[] = [
  // 1: RedMi → xiaomi.com (CN), an md5'd IMEI, a word only in the request body
  store.add({
    ...draftFlow({ start: T0, host: 'tracking.xiaomi.com', country: 'CN', ...redmi, body: '{"note":"quokka sighting"}', findings: [{ type: 'imei', encoding: 'md5' }] }),
    destination: { domain: 'xiaomi.com', country: 'CN', org: 'Xiaomi Communications', ip: '203.0.113.5', scope: 'public' },
  }),
  // 2: RedMi → umeng.com (CN), a phone number in the URL, sha1+hex
  store.add({
    ...draftFlow({ start: T0 + 1000, host: 'alog.umeng.com', country: 'CN', ...redmi, url: 'https://alog.umeng.com/app_logs?tel=x', findings: [{ type: 'phone_number', value: '+8613800138000', where: 'url', encoding: 'sha1+hex', confidence: 'pattern' }] }),
    destination: { domain: 'umeng.com', country: 'CN', org: 'Alibaba', ip: '203.0.113.6', scope: 'public' },
  }),
  // 3: RedMi → a US CDN, nothing flagged, a 404 GET with the word in a response header and the response body
  store.add({
    ...draftFlow({ start: T0 + 2000, host: 'cdn.example.com', country: 'US', ...redmi }),
    method: 'GET',
    status: 404,
    responseHeaders: { 'x-trace': 'Wombat-42' },
    responseBody: { text: Buffer.from('\x08\x96\x01binary platypus').toString('base64'), encoding: 'base64', size: 18 },
  }),
  // 4: Pixel → xiaomi.com (CN), an IMEI in plain
  store.add(draftFlow({ start: T0 + 3000, host: 'api.xiaomi.com', country: 'CN', ...pixel, findings: [{ type: 'imei', device: 'Pixel 7' }] })),
];
store.mark(stored[2].id, true, 'odd 404');

const id = (i: number) => stored[i - 1].id;

describe('filter expressions over the store', () => {
  const cases: [string, number[]][] = [
    ['quokka', [1]],
    ['QUOKKA', [1]],
    ['~bq quokka', [1]],
    ['~bs quokka', []],
    ['~bs platypus', [3]],
    ['~b platypus', [3]],
    ['~h wombat', [3]],
    ['~u app_logs', [2]],
    ['~d xiaomi', [1, 4]],
    ['~m get', [3]],
    ['~c 404', [3]],
    ['~t imei', [1, 4]],
    ['~enc md5', [1]],
    ['~enc sha1', [2]],
    ['~enc sha1+hex', [2]],
    ['~conf pattern', [2]],
    ['~cc CN', [1, 2, 4]],
    ['~org alibaba', [2]],
    ['~dev redmi & ~cc CN', [1, 2]],
    ['~dev redmi ~cc cn !~t phone_number', [1]],
    ['~dev pixel | ~c 404', [3, 4]],
    ['!(~cc cn | ~cc us)', []],
    ['~marked', [3]],
    ['~marked | "quokka sighting"', [1, 3]],
    ['wo', [3]],
    ['~session 1', [1, 2, 3, 4]],
  ];

  it.each(cases)('%s', (src, expected) => {
    const filter = parseFilter(src);
    const fromStore = store.summaries({ filter }).map((f) => f.id).sort((a, b) => a - b);
    expect(fromStore).toEqual(expected.map(id));
    // scan's in-memory evaluation means the same
    const matches = flowMatcher(filter, { sessionName: (n) => store.sessions.list().find((s) => s.id === n)?.name });
    const fromMemory = [...store.flows({})].filter(matches).map((f) => f.id);
    expect(fromMemory).toEqual(expected.map(id));
  });

  it('finds a flow again after it is rewritten with more text (a tunnel that grew)', () => {
    const flow = store.add(draftFlow({ start: T0 + 5000, host: 'raw.example.net' }));
    expect(store.summaries({ filter: parseFilter('echidna') })).toEqual([]);
    store.update({ ...flow, responseBody: { text: 'an echidna', size: 10 } });
    expect(store.summaries({ filter: parseFilter('echidna') }).map((f) => f.id)).toEqual([flow.id]);
    store.update({ ...flow, responseBody: { text: 'gone', size: 4 } });
    expect(store.summaries({ filter: parseFilter('echidna') })).toEqual([]);
  });

  it('indexes, when it is next opened, the flows a crash left out of the index', () => {
    const dir = tempDir();
    const first = new FlowStore(dir);
    const flow = first.add(draftFlow({ start: T0, host: 'crash.example', body: '{"note":"a numbat"}' }));
    // Killed: the flow is committed, its text was still waiting to be indexed.
    (first as unknown as { db: { close(): void } }).db.close();
    const again = new FlowStore(dir);
    try {
      expect(again.summaries({ filter: parseFilter('numbat') }).map((f) => f.id)).toEqual([flow.id]);
    } finally {
      again.close();
    }
  });

  it('rebuilds the index from the flows when its file is gone, and keeps up with flows stored after', () => {
    const dir = tempDir();
    const first = new FlowStore(dir);
    const old = first.add(draftFlow({ start: T0, host: 'old.example', body: '{"note":"a bilby"}' }));
    first.close();
    fs.rmSync(path.join(dir, TEXT_INDEX_FILE));
    const again = new FlowStore(dir);
    try {
      const later = again.add(draftFlow({ start: T0 + 1000, host: 'new.example', body: '{"note":"another bilby"}' }));
      expect(again.summaries({ filter: parseFilter('bilby') }).map((f) => f.id)).toEqual([later.id, old.id]);
    } finally {
      again.close();
    }
  });
});

describe('bad expressions', () => {
  it.each([
    ['~x foo', 1, 'unknown operator "~x"'],
    ['~dev redmi & ~zz', 14, 'unknown operator "~zz"'],
    ['~t imie', 4, 'unknown identifier type "imie"'],
    ['~c abc', 4, 'needs a status code'],
    ['(~cc CN', 8, 'is not closed'],
    ['~cc CN)', 7, 'without its "("'],
    ['~u', 3, 'needs an argument'],
    ['a &', 4, 'ends where a term should follow'],
    ['"open', 1, 'unclosed'],
    ['', 1, 'empty expression'],
  ])('%j fails at position %i', (src, position, reason) => {
    let error: unknown;
    try {
      parseFilter(src);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(FilterError);
    expect((error as FilterError).position).toBe(position);
    expect((error as FilterError).message).toContain(`position ${position}`);
    expect((error as FilterError).message).toContain(reason);
  });

  it('names the text terms the detail highlights: not those under a !', () => {
    expect(searchTerms(parseFilter('narwhal ~bq "two words" | !~u hidden ~dev redmi ~h x-trace'))).toEqual(['narwhal', 'two words', 'x-trace']);
  });

  it('completes operators after a ~', () => {
    expect(operatorCompletions('~dev redmi & ~c').map((c) => c.op)).toEqual(['c', 'conf', 'cc']);
    expect(operatorCompletions('redmi')).toEqual([]);
  });
});
