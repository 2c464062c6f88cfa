// A bounded load of HTTPS requests through the proxy that remembers which responses a phone saw complete.
import { ProxyAgent, request } from 'undici';

export interface Load {
  /** url → time its response body was fully read */
  completed: Map<string, number>;
  /** resolves when every worker has stopped (after `stop()`, the limit, or the first failure each) */
  done: Promise<void>;
  stop(): void;
}

export function startLoad(opts: { proxyPort: number; caPem: string; base: string; workers: number; limit: number }): Load {
  const agent = new ProxyAgent({ uri: `http://127.0.0.1:${opts.proxyPort}`, requestTls: { ca: opts.caPem } });
  const completed = new Map<string, number>();
  let stopped = false;
  let next = 0;
  const worker = async () => {
    while (!stopped && next < opts.limit) {
      const url = `${opts.base}/${next++}`;
      try {
        const res = await request(url, { dispatcher: agent, headersTimeout: 10_000, bodyTimeout: 10_000 });
        await res.body.text();
        if (res.statusCode === 200) completed.set(url, Date.now());
      } catch {
        return; // the proxy went away: this worker is done
      }
    }
  };
  const done = Promise.all(Array.from({ length: opts.workers }, worker)).then(() => agent.destroy());
  return { completed, done, stop: () => (stopped = true) };
}
