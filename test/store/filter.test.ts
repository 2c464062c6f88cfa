// The filter language over both stores: each expression narrows the flows as CONTRACT.md says, over an instance's
// SQLite store and over a lab's PostgreSQL one alike, the stores' SQL and the in-memory matcher (`scan --filter`)
// agree on every one, and bad expressions name their position.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FilterError, operatorCompletions, parseFilter, searchTerms } from '../../shared/filter';
import { flowMatcher } from '../../proxy/filter/match';
import { FilterUnsupported } from '../../proxy/filter/sql';
import { FlowStore } from '../../proxy/store/flow-store';
import { TEXT_INDEX_FILE } from '../../proxy/store/flow-text-index';
import { draftFlow } from '../helpers/flows';
import { FILTER_CASES, FILTER_FLOWS, T0 } from '../helpers/filter-cases';
import { tempDir } from '../helpers/leakscope';
import { postgresForTests } from '../helpers/postgres';
import { all, capturedIn, ENGINES, type Engine } from '../helpers/store-engines';

const pg = postgresForTests();

/** What an engine cannot answer, and answers with FilterUnsupported (a 400) rather than a partial result. */
const UNANSWERABLE: Record<Engine, RegExp | undefined> = {
  sqlite: undefined,
  // marks live in each instance's own store
  postgres: /~marked/,
};

describe.each(ENGINES)('filter expressions over the %s store', (engine) => {
  const env = capturedIn(engine, pg, async ({ local, add }) => {
    for (const draft of FILTER_FLOWS) await add(draft);
    local.mark(3, true, 'odd 404');
  });

  it.each(FILTER_CASES)('%s', async (src, expected) => {
    const filter = parseFilter(src);
    if (UNANSWERABLE[engine]?.test(src)) return void (await expect(env.reader.summaries({ filter })).rejects.toBeInstanceOf(FilterUnsupported));
    const fromStore = (await env.reader.summaries({ filter })).map((f) => f.id).sort((a, b) => a - b);
    expect(fromStore).toEqual(expected.map(env.id));
    // scan's in-memory evaluation means the same
    const sessions = await env.reader.sessions();
    const matches = flowMatcher(filter, { sessionName: (n) => sessions.find((s) => s.id === n)?.name });
    const fromMemory = (await all(env.reader.flows({}))).filter(matches).map((f) => f.id);
    expect(fromMemory).toEqual(expected.map(env.id));
  });

  it('finds a flow again after it is rewritten with more text (a tunnel that grew)', async () => {
    const flow = await env.add(draftFlow({ start: T0 + 5000, host: 'raw.example.net' }));
    const found = async (word: string) => (await env.reader.summaries({ filter: parseFilter(word) })).map((f) => f.url);
    expect(await found('echidna')).toEqual([]);
    await env.update({ ...flow, responseBody: { text: 'an echidna', size: 10 } });
    expect(await found('echidna')).toEqual([flow.url]);
    await env.update({ ...flow, responseBody: { text: 'gone', size: 4 } });
    expect(await found('echidna')).toEqual([]);
  });
});

describe('the SQLite store\'s full-text index', () => {
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
