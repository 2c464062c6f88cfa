// Peak RSS of the proxy while 1 GiB goes up and 1 GiB comes down through it at the same time. Bodies must
// stream: only the capture caps' worth of each is kept, so memory stays flat whatever the size.
import { Readable } from 'node:stream';
import { ProxyAgent, request } from 'undici';
import { rssMb } from './processes';

const GIB = 1024 * 1024 * 1024;
const CHUNK = Buffer.alloc(256 * 1024, 'u');

function gibibyte(): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= GIB) return void this.push(null);
      sent += CHUNK.length;
      this.push(CHUNK);
    },
  });
}

export async function benchMemory(proxyPid: number, proxyPort: number, caPem: string, upstreamUrl: string): Promise<{ peakMb: number; baselineMb: number; seconds: number; uploaded: number; downloaded: number }> {
  const agent = new ProxyAgent({ uri: `http://127.0.0.1:${proxyPort}`, requestTls: { ca: caPem } });
  const baselineMb = rssMb(proxyPid).rss;
  let peakMb = baselineMb;
  const sampler = setInterval(() => (peakMb = Math.max(peakMb, rssMb(proxyPid).rss)), 50);
  const t0 = performance.now();
  try {
    const opts = { dispatcher: agent, headersTimeout: 120_000, bodyTimeout: 120_000 };
    const [up, down] = await Promise.all([
      request(`${upstreamUrl}/sink`, { ...opts, method: 'POST', body: gibibyte(), headers: { 'content-length': String(GIB), 'content-type': 'application/octet-stream' } }).then((r) => r.body.text()),
      request(`${upstreamUrl}/stream?bytes=${GIB}`, opts).then(async (r) => {
        let n = 0;
        for await (const chunk of r.body) n += (chunk as Buffer).length;
        return n;
      }),
    ]);
    // VmHWM catches a peak between samples (the proxy is fresh, so its lifetime peak is this transfer's).
    peakMb = Math.max(peakMb, rssMb(proxyPid).peak);
    return { peakMb, baselineMb, seconds: (performance.now() - t0) / 1000, uploaded: Number(up), downloaded: down };
  } finally {
    clearInterval(sampler);
    await agent.close();
  }
}
