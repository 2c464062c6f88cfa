// Many idle connections: a phone app (or a scanner on the lab network) opening thousands of sockets and
// sending nothing must not crash the proxy or starve a well-behaved phone.
// 2,000 rather than 10,000: client and proxy share this process, so each idle connection costs two file
// descriptors here (plus a tunnel's three), and the test machine has 2 cores and `ulimit -n` 20000.
import { execFileSync } from 'node:child_process';
import type net from 'node:net';
import { describe, expect, it } from 'vitest';
import { proxyInFrontOfUpstream } from '../helpers/leakscope';
import { withBystander } from './bystander';
import { connect, tunnel } from './raw';

const IDLE = 2000;
const TUNNELS = 200;
// Opening 2,000 loopback connections takes 4–15 s on the test machine (a bare Node server too), so the
// allowance here outlasts that; cutting idle sockets at the allowance is tested in client-faults.
const HEADERS_TIMEOUT = 60_000;

describe('idle connections', () => {
  const env = proxyInFrontOfUpstream({ headersTimeout: HEADERS_TIMEOUT });

  it(`serves a phone while ${IDLE} connections and ${TUNNELS} CONNECT tunnels sit idle, and after they go`, async () => {
    const fdLimit = Number(execFileSync('sh', ['-c', 'ulimit -n']).toString());
    expect(fdLimit).toBeGreaterThan(IDLE * 2 + TUNNELS * 4 + 500);
    const sockets: net.Socket[] = [];
    try {
      for (let i = 0; i < IDLE; i += 200) {
        sockets.push(...(await Promise.all(Array.from({ length: 200 }, () => connect(env.app.proxyPort)))));
      }
      sockets.push(...(await Promise.all(Array.from({ length: TUNNELS }, () => tunnel(env.app.proxyPort, `127.0.0.1:${env.upstream.port}`)))));
      const closed = () => sockets.filter((s) => s.destroyed || s.readableEnded).length;
      for (const s of sockets) {
        s.on('error', () => {});
        s.on('end', () => s.destroy());
      }
      await withBystander(env.app, env.upstream, async () => {}, 10);
      expect(closed()).toBe(0); // within the allowance nobody is cut
      for (const s of sockets) s.destroy();
      await withBystander(env.app, env.upstream, async () => {}, 3);
    } finally {
      for (const s of sockets) s.destroy();
    }
  });
});
