// Added latency of the first request to a new HTTPS host: a fresh connection whose CONNECT names a host
// leakscope has not seen (so it mints a certificate) against one for a host it has. The inner request's
// Host header points both at the local upstream, so only the name being new differs.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { ensureCa, LeafMinter } from '../proxy/certs/authority';
import { median, quantile } from './stats';

function oneRequest(proxyPort: number, caPem: string, sni: string, upstreamPort: number): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const raw = net.connect(proxyPort, '127.0.0.1', () => raw.write(`CONNECT ${sni}:${upstreamPort} HTTP/1.1\r\nHost: ${sni}:${upstreamPort}\r\n\r\n`));
    raw.once('error', reject);
    // The answer to CONNECT may come in several writes: TLS starts only after its blank line.
    let head = '';
    const onHead = (c: Buffer) => {
      head += c.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      raw.off('data', onHead);
      if (!head.startsWith('HTTP/1.1 200')) return reject(new Error(`CONNECT: ${head.split('\r\n')[0]}`));
      const socket = tls.connect({ socket: raw, servername: sni, ca: caPem }, () => {
        socket.write(`GET /small HTTP/1.1\r\nHost: 127.0.0.1:${upstreamPort}\r\nConnection: close\r\n\r\n`);
      });
      let reply = '';
      socket.on('data', (c: Buffer) => (reply += c.toString('latin1')));
      socket.once('error', reject);
      socket.once('close', () => (reply.startsWith('HTTP/1.1 200') ? resolve(performance.now() - t0) : reject(new Error(reply.slice(0, 100)))));
    };
    raw.on('data', onHead);
    raw.setTimeout(10_000, () => raw.destroy(new Error('no answer in 10 s')));
  });
}

/** Time to mint one leaf certificate, in this process: the part of a new host's cost that is ours alone. */
export async function benchMint(samples = 200): Promise<{ median: number; p90: number; samples: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leakscope-bench-mint-'));
  try {
    const minter = await LeafMinter.create(await ensureCa(dir));
    for (let i = 0; i < 20; i++) await minter.certificateFor(`warm-${i}.bench.test`);
    const times: number[] = [];
    for (let i = 0; i < samples; i++) {
      const t = performance.now();
      await minter.certificateFor(`host-${i}.bench.test`);
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    return { median: quantile(times, 0.5), p90: quantile(times, 0.9), samples };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchFirstRequest(proxyPort: number, caPem: string, upstreamPort: number, samples = 30): Promise<{ newHost: number; cachedHost: number; added: number; samples: number }> {
  const run = `${process.pid}-${Date.now()}`;
  await oneRequest(proxyPort, caPem, `cached-${run}.bench.test`, upstreamPort);
  const fresh: number[] = [];
  const cached: number[] = [];
  for (let i = 0; i < samples; i++) {
    fresh.push(await oneRequest(proxyPort, caPem, `new-${i}-${run}.bench.test`, upstreamPort));
    cached.push(await oneRequest(proxyPort, caPem, `cached-${run}.bench.test`, upstreamPort));
  }
  const newHost = median(fresh);
  const cachedHost = median(cached);
  return { newHost, cachedHost, added: newHost - cachedHost, samples };
}
