// A request through the proxy to the proxy itself, directly or through another proxy, is refused at once with
// a 508 and stored as one flow; a phone on the LAN (a network namespace made here) gets the same, and cannot
// reach the tester's loopback services or the dashboard.
import { execFile, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { curl, startTestLeakscope, waitFor, type TestLeakscope } from '../helpers/leakscope';

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: 'pipe' });
}

/** Flows stored now, and again after a pause long enough for a loop to have made more. */
async function settledCount(app: TestLeakscope): Promise<number> {
  await new Promise((r) => setTimeout(r, 1000));
  return app.store.count();
}

describe('loops on loopback', () => {
  let app: TestLeakscope;
  beforeAll(async () => {
    app = await startTestLeakscope();
  });
  afterAll(() => app?.close());

  it('answers a request for its own port 508 within a second, as one flow', async () => {
    const started = Date.now();
    const r = await curl(['-x', `http://127.0.0.1:${app.proxyPort}`, '-w', '%{http_code}', `http://127.0.0.1:${app.proxyPort}/x`], 5000);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(r.stdout.toString()).toMatch(/loop back into the proxy[\s\S]*508$/);
    expect(await settledCount(app)).toBe(1);
    const [flow] = app.store.summaries({});
    expect(flow).toMatchObject({ status: 508, url: `http://127.0.0.1:${app.proxyPort}/x`, error: expect.stringMatching(/loop/) });
  });

  it('does the same inside a CONNECT tunnel, and by the name localhost', async () => {
    const before = app.store.count();
    const r = await curl(['-x', `http://127.0.0.1:${app.proxyPort}`, '--cacert', app.caFile, '-w', '%{http_code}', `https://localhost:${app.proxyPort}/y`], 5000);
    expect(r.stdout.toString()).toMatch(/508$/);
    expect((await settledCount(app)) - before).toBe(1);
  });

  it('stops a loop through another proxy by its own Via entry', async () => {
    // A relay that sends whatever reaches it back through leakscope to itself: without the Via check this
    // would go round until something gave up.
    let relayed = 0;
    const relay = http.createServer((req, res) => {
      relayed++;
      const back = http.request(
        { host: '127.0.0.1', port: app.proxyPort, method: req.method, path: `http://127.0.0.1:${port}${req.url}`, headers: req.headers, agent: false },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      back.on('error', () => res.destroy());
      req.pipe(back);
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
    const port = (relay.address() as AddressInfo).port;
    try {
      const before = app.store.count();
      const r = await curl(['-x', `http://127.0.0.1:${app.proxyPort}`, '-w', '%{http_code}', `http://127.0.0.1:${port}/round`], 5000);
      expect(r.stdout.toString()).toMatch(/already passed through this leakscope[\s\S]*508$/);
      expect(relayed).toBe(1);
      // The request that went out and came back, and the refusal: two flows, not a chain.
      expect((await settledCount(app)) - before).toBe(2);
      // Newest first: the refusal is stored before the answer it causes reaches the outer request.
      const [outer, refusal] = app.store.summaries({ limit: 2 });
      expect(refusal.status).toBe(508);
      expect(refusal.error).toMatch(/Via/);
      expect(outer.status).toBe(508);
    } finally {
      await new Promise((r) => relay.close(r));
    }
  });
});

describe('a phone on the LAN (network namespace)', () => {
  const tag = crypto.randomBytes(3).toString('hex');
  const ns = `ls-loop-${tag}`;
  const hostIf = `lsh${tag}`;
  const nsIf = `lsn${tag}`;
  const net = `10.${200 + (parseInt(tag.slice(0, 2), 16) % 50)}.${parseInt(tag.slice(2, 4), 16)}`;
  const laptop = `${net}.1`;
  let app: TestLeakscope;
  let local: http.Server;
  let localPort: number;

  beforeAll(async () => {
    ip('netns', 'add', ns);
    ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf);
    ip('link', 'set', nsIf, 'netns', ns);
    ip('addr', 'add', `${laptop}/24`, 'dev', hostIf);
    ip('link', 'set', hostIf, 'up');
    ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${net}.2/24`, 'dev', nsIf);
    ip('netns', 'exec', ns, 'ip', 'link', 'set', nsIf, 'up');
    ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
    // A veth pair carries nothing until both ends report a carrier.
    await waitFor(() => [['link', 'show', hostIf], ['netns', 'exec', ns, 'ip', 'link', 'show', nsIf]].every((args) => /LOWER_UP/.test(execFileSync('ip', args, { encoding: 'utf8' }))), 5000, 'veth carrier');
    // The proxy listens on the laptop's address in the namespace's network only: nothing here is on a real LAN.
    app = await startTestLeakscope({ proxyHost: laptop });
    // A service the tester runs on loopback only: a phone must not reach it through the proxy.
    local = http.createServer((_req, res) => res.end('private'));
    await new Promise<void>((r) => local.listen(0, '127.0.0.1', r));
    localPort = (local.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await app?.close();
    await new Promise((r) => local?.close(r));
    try {
      ip('link', 'del', hostIf);
    } catch {
      /* gone with the namespace */
    }
    ip('netns', 'del', ns);
  });

  // Asynchronous: leakscope runs in this process and must go on answering while curl waits.
  const fromPhone = (url: string) =>
    new Promise<{ out: string; ms: number }>((resolve) => {
      const started = Date.now();
      execFile('ip', ['netns', 'exec', ns, 'curl', '--silent', '--max-time', '5', '-x', `http://${laptop}:${app.proxyPort}`, '-w', '%{http_code}', url], { encoding: 'utf8' }, (_err, stdout) =>
        resolve({ out: stdout, ms: Date.now() - started }),
      );
    });

  it('gets a 508 within a second for the proxy\'s own LAN address and port, as one flow', async () => {
    const r = await fromPhone(`http://${laptop}:${app.proxyPort}/x`);
    expect(r.out).toMatch(/loop back into the proxy[\s\S]*508$/);
    expect(r.ms).toBeLessThan(3000);
    expect(await settledCount(app)).toBe(1);
    expect(app.store.summaries({})[0]).toMatchObject({ client: `${net}.2`, status: 508 });
  });

  it('cannot reach a service on the tester\'s loopback, the dashboard or the metadata address', async () => {
    for (const url of [`http://127.0.0.1:${localPort}/`, `http://localhost:${localPort}/`, `http://[::1]:${localPort}/`, `http://127.0.0.1:${app.uiPort}/api/flows`, 'http://169.254.169.254/latest/meta-data/']) {
      const r = await fromPhone(url);
      expect(r.out, url).toMatch(/^leakscope: refused: [\s\S]*403$/);
      expect(r.out, url).not.toMatch(/private|"findings"/);
    }
  });

  it('is the only one refused: the tester on loopback still reaches the local service', async () => {
    const r = await curl(['-x', `http://${laptop}:${app.proxyPort}`, `http://127.0.0.1:${localPort}/`]);
    expect(r.stdout.toString()).toBe('private');
  });
});
