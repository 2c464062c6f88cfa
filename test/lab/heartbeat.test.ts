// The primary's watch for hung workers, with real timers: one that answers its pings is left alone, one that
// does not is taken as hung, and a primary held up itself does not take its workers' unread answers for silence.
import { describe, expect, it } from 'vitest';
import { watchHeartbeats } from '../../proxy/workers/heartbeat';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('watchHeartbeats', () => {
  it('ends the worker that stops answering, not the one that answers', async () => {
    const answering = { name: 'answering', heard: Date.now() };
    const silent = { name: 'silent', heard: Date.now() };
    const hung: string[] = [];
    const stop = watchHeartbeats(() => [answering, silent], 200, (n) => n === answering && (n.heard = Date.now()), (n) => hung.push(n.name));
    await sleep(600);
    stop();
    // (once a round of hungMs: the primary ends it the first time)
    expect(new Set(hung)).toEqual(new Set(['silent']));
  });

  it('after a pause of its own, asks again before it judges', async () => {
    const behind = { heard: Date.now() - 10_000 };
    const hung: unknown[] = [];
    let pings = 0;
    const stop = watchHeartbeats(() => [behind], 200, () => pings++, (n) => hung.push(n));
    // This thread held for well over two ticks: the first tick to run is late and only asks.
    const until = Date.now() + 400;
    while (Date.now() < until);
    await sleep(20);
    stop();
    expect({ pings, hung }).toEqual({ pings: 1, hung: [] });
  });
});
