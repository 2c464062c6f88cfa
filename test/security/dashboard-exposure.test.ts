// The dashboard beyond loopback (token, Origin), the data dir and CA key on disk, and captured content kept
// away from shells, file names and HTML.
import fs from 'node:fs';
import path from 'node:path';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { curl, proxyInFrontOfUpstream, startTestLeakscope, waitFor, type TestLeakscope } from '../helpers/leakscope';
import { startUpstream, type Upstream } from '../helpers/upstream';

describe('dashboard listening beyond loopback', () => {
  let upstream: Upstream;
  let app: TestLeakscope;
  let base: string;

  beforeAll(async () => {
    upstream = await startUpstream();
    app = await startTestLeakscope({ upstreamCaPem: upstream.caPem, uiHost: '0.0.0.0' });
    base = `http://127.0.0.1:${app.uiPort}`;
  });

  afterAll(async () => {
    await app?.close();
    await upstream?.close();
  });

  const login = async () => {
    const res = await fetch(`${base}/?token=${app.token}`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    const cookie = res.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    return cookie.split(';')[0];
  };

  it('requires the token printed at start for every API call, but not for the setup page and CA', async () => {
    expect(app.token).toMatch(/^[\w-]{32}$/);
    for (const p of ['/api/flows', '/api/summary', '/api/tls-errors', '/api/identifiers', '/api/export.har', '/']) {
      expect((await fetch(`${base}${p}`)).status, p).toBe(401);
    }
    expect((await fetch(`${base}/api/flows?token=wrong`, { redirect: 'manual' })).status).toBe(401);
    expect((await fetch(`${base}/setup`)).status).toBe(200);
    expect((await fetch(`${base}/ca.pem`)).status).toBe(200);
    const cookie = await login();
    expect((await fetch(`${base}/api/flows`, { headers: { cookie } })).status).toBe(200);
  });

  it('refuses socket.io connections without the token', async () => {
    const connects = (opts: Parameters<typeof io>[1]) =>
      new Promise<string>((resolve) => {
        const s = io(base, { transports: ['websocket'], reconnection: false, ...opts });
        s.once('connect', () => (s.close(), resolve('connected')));
        s.once('connect_error', (e) => (s.close(), resolve(e.message)));
      });
    expect(await connects({})).toBe('unauthorized');
    expect(await connects({ auth: { token: 'wrong' } })).toBe('unauthorized');
    expect(await connects({ auth: { token: app.token } })).toBe('connected');
    expect(await connects({ extraHeaders: { cookie: await login() } })).toBe('connected');
  });

  it('refuses mutations from another origin, or not in JSON, even with the token', async () => {
    const cookie = await login();
    const put = (headers: Record<string, string>, body = JSON.stringify({ name: 'Phone A' })) =>
      fetch(`${base}/api/devices/192.168.1.23`, { method: 'PUT', headers: { cookie, ...headers }, body });
    expect((await put({ 'content-type': 'application/json', origin: 'http://evil.example' })).status).toBe(403);
    expect((await put({ 'content-type': 'text/plain', origin: base })).status).toBe(415);
    expect((await put({ 'content-type': 'application/x-www-form-urlencoded' }, 'name=x')).status).toBe(415);
    expect((await put({ 'content-type': 'application/json', origin: base })).status).toBe(200);
  });
});

describe('data on disk and captured content', () => {
  const env = proxyInFrontOfUpstream();

  it('keeps the data dir 0700 and the CA key 0600, and never serves the key', async () => {
    expect(fs.statSync(env.app.dataDir).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(env.app.dataDir, 'ca', 'keys', 'ca.private.key')).mode & 0o777).toBe(0o600);
    const probes = ['ca/keys/ca.private.key', 'keys/ca.private.key', '..%2Fca%2Fkeys%2Fca.private.key', '%2e%2e/%2e%2e/ca/keys/ca.private.key', 'ca.key', 'ca.private.key', 'flows.db'];
    for (const p of probes) {
      const direct = await (await fetch(`${env.app.uiUrl}${p}`)).text();
      expect(direct, p).not.toMatch(/PRIVATE KEY|SQLite format/);
      const viaProxy = await curl(['-x', `http://127.0.0.1:${env.app.proxyPort}`, '--path-as-is', `http://leakscope.setup/${p}`]);
      expect(viaProxy.stdout.toString(), p).not.toMatch(/PRIVATE KEY|SQLite format/);
    }
  });

  it('stores hostile captured content as data: no new files, no shell, JSON only', async () => {
    const before = (fs.readdirSync(env.app.dataDir, { recursive: true }) as string[]).sort();
    const marker = path.join(env.app.dataDir, 'pwned');
    const hostile = `/h/%3Cscript%3Ealert(1)%3C%2Fscript%3E$(touch%20${encodeURIComponent(marker)})%60touch%20${encodeURIComponent(marker)}%60;..%2F..%2Fx`;
    const r = await curl(['-x', `http://127.0.0.1:${env.app.proxyPort}`, '--cacert', env.app.caFile, '-H', `X-Evil: <img src=x onerror=alert(1)>; $(touch ${marker})`, '--data', `"; rm -rf / #<svg onload=alert(1)>`, `${env.upstream.url}${hostile}`]);
    expect(r.stderr).toBe('');
    const [summary] = await waitFor(() => env.app.store.summaries({ q: '/h/' }), 3000, 'hostile flow');
    expect(fs.existsSync(marker)).toBe(false);
    const after = (fs.readdirSync(env.app.dataDir, { recursive: true }) as string[]).sort();
    // Only SQLite's own files may come and go (the WAL and its index).
    expect(after.filter((f) => !before.includes(f) && !/^flows\.db-(wal|shm)$/.test(f))).toEqual([]);
    for (const p of [`api/flows/${summary.id}`, 'api/flows', 'api/export.har']) {
      const res = await fetch(`${env.app.uiUrl}${p}`, { headers: { 'sec-fetch-site': 'same-origin' } });
      expect(res.headers.get('content-type'), p).toMatch(/^application\/json/);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    }
    expect(await (await fetch(`${env.app.uiUrl}setup`)).text()).not.toMatch(/onerror|<script>alert/);
  });

  it('spawns no shell anywhere in the proxy', () => {
    const root = path.resolve(__dirname, '../../proxy');
    const offenders = (fs.readdirSync(root, { recursive: true }) as string[])
      .filter((f) => f.endsWith('.ts'))
      // Programs may be run (wireguard-go, nft, ip) with argument lists, never through a shell.
      .filter((f) => /(?<![.\w])exec(?:Sync)?\(|shell:\s*true|spawnSync\(\s*['"`](?:sh|bash)\b|spawn\(\s*['"`](?:sh|bash)\b/.test(fs.readFileSync(path.join(root, f), 'utf8')));
    expect(offenders).toEqual([]);
  });
});
