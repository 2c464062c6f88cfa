// The well-behaved phone that keeps using the proxy while something else misbehaves: every one of its
// requests must succeed and every one must be recorded.
import { ProxyAgent, request } from 'undici';
import { expect } from 'vitest';
import { waitFor, type TestLeakscope } from '../helpers/leakscope';
import type { Upstream } from '../helpers/upstream';

let run = 0;

/** Runs `fault` while a bystander makes `count` HTTPS requests through the proxy, then checks the bystander. */
export async function withBystander<T>(app: TestLeakscope, upstream: Upstream, fault: () => Promise<T>, count = 5): Promise<T> {
  const tag = `bystander-${process.pid}-${++run}`;
  const agent = new ProxyAgent({ uri: `http://127.0.0.1:${app.proxyPort}`, requestTls: { ca: app.caPem } });
  const bystander = (async () => {
    const statuses: number[] = [];
    try {
      for (let i = 0; i < count; i++) {
        const res = await request(`${upstream.url}/${tag}/${i}`, { dispatcher: agent, headersTimeout: 10_000, bodyTimeout: 10_000 });
        await res.body.text();
        statuses.push(res.statusCode);
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      await agent.close();
    }
    return statuses;
  })();
  const [result, statuses] = await Promise.all([fault(), bystander]);
  expect(statuses).toEqual(Array(count).fill(200));
  await waitFor(() => app.store.summaries({ q: tag, limit: 100 }).length === count, 5000, `${count} bystander flows recorded`);
  return result;
}
