// The destination the app chose: IPv6 literals in CONNECT and absolute URIs, and a CONNECT target obeyed over
// the Host header inside the tunnel, with both recorded.
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Flow, FlowSummary } from '../../shared/types';
import { ensureCa, LeafMinter } from '../../proxy/certs/authority';
import { asDashboard, curl, startTestLeakscope, tempDir, waitFor, type TestLeakscope } from '../helpers/leakscope';

interface Server {
  server: http.Server;
  port: number;
}

/** A server that answers with its own name, so the test sees which one a request reached. */
async function namedServer(name: string, host: string, leaf?: { key: string; cert: string }): Promise<Server> {
  const answer: http.RequestListener = (req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`${name} ${req.url} host=${req.headers.host}`);
  };
  const server = leaf ? https.createServer(leaf, answer) : http.createServer(answer);
  await new Promise<void>((r) => server.listen(0, host, r));
  return { server, port: (server.address() as AddressInfo).port };
}

describe('the destination the app chose', () => {
  let app: TestLeakscope;
  const servers: Record<string, Server> = {};

  beforeAll(async () => {
    const files = await ensureCa(path.join(tempDir(), 'upstream-ca'));
    const minter = await LeafMinter.create(files);
    servers.v6tls = await namedServer('v6-tls', '::1', await minter.certificateFor('::1'));
    servers.v6plain = await namedServer('v6-plain', '::1');
    servers.a = await namedServer('server-A', '127.0.0.1', await minter.certificateFor('127.0.0.1'));
    servers.b = await namedServer('server-B', '127.0.0.1', await minter.certificateFor('127.0.0.1'));
    servers.plainA = await namedServer('plain-A', '127.0.0.1');
    app = await startTestLeakscope({ upstreamCaPem: files.certPem });
  });

  afterAll(async () => {
    await app?.close();
    for (const { server } of Object.values(servers)) {
      server.closeAllConnections();
      server.close();
    }
  });

  const proxy = () => ['-x', `http://127.0.0.1:${app.proxyPort}`, '--cacert', app.caFile];
  const flowFor = async (needle: string) => {
    const summary = await waitFor(
      async () => ((await (await fetch(`${app.uiUrl}api/flows?limit=500`)).json()) as FlowSummary[]).find((f) => f.url.includes(needle)),
      5000,
      needle,
    );
    return (await (await fetch(`${app.uiUrl}api/flows/${summary.id}`)).json()) as Flow;
  };

  it('reaches an IPv6 literal through CONNECT', async () => {
    const r = await curl([...proxy(), `https://[::1]:${servers.v6tls.port}/v6-connect`]);
    expect(r.stderr).toBe('');
    expect(r.stdout.toString()).toBe(`v6-tls /v6-connect host=[::1]:${servers.v6tls.port}`);
    const flow = await flowFor('/v6-connect');
    expect(flow).toMatchObject({ url: `https://[::1]:${servers.v6tls.port}/v6-connect`, host: '::1', status: 200 });
    expect(flow.hostHeader).toBeUndefined();
    expect(flow.destination).toMatchObject({ ip: '::1', scope: 'loopback' });
  });

  it('reaches an IPv6 literal in an absolute URI', async () => {
    const r = await curl([...proxy(), `http://[::1]:${servers.v6plain.port}/v6-absolute`]);
    expect(r.stderr).toBe('');
    expect(r.stdout.toString()).toBe(`v6-plain /v6-absolute host=[::1]:${servers.v6plain.port}`);
    const flow = await flowFor('/v6-absolute');
    expect(flow).toMatchObject({ url: `http://[::1]:${servers.v6plain.port}/v6-absolute`, host: '::1', status: 200 });
    expect(flow.destination).toMatchObject({ ip: '::1' });
  });

  it('connects to the CONNECT target, not the Host header, and records both', async () => {
    const { a, b } = servers;
    const r = await curl([...proxy(), '-H', `Host: localhost:${b.port}`, `https://127.0.0.1:${a.port}/which`]);
    expect(r.stderr).toBe('');
    // The request reached A, with the Host header the app sent left as it was.
    expect(r.stdout.toString()).toBe(`server-A /which host=localhost:${b.port}`);
    const flow = await flowFor('/which');
    expect(flow).toMatchObject({ host: '127.0.0.1', hostHeader: `localhost:${b.port}`, url: `https://localhost:${a.port}/which` });
    expect(flow.destination).toMatchObject({ ip: '127.0.0.1' });
    const har = await (await fetch(`${app.uiUrl}api/export.har`, asDashboard(app))).json();
    const entry = har.log.entries.find((e: { request: { url: string } }) => e.request.url.endsWith('/which'));
    expect(entry._leakscope.hostHeader).toBe(`localhost:${b.port}`);
  });

  it('shows the name of an app that resolves names itself (HTTPDNS), with the address it dialled', async () => {
    const r = await curl([...proxy(), '-H', 'Host: api.example.cn', `https://127.0.0.1:${servers.a.port}/httpdns`]);
    expect(r.stdout.toString()).toBe('server-A /httpdns host=api.example.cn');
    const flow = await flowFor('/httpdns');
    expect(flow).toMatchObject({ host: '127.0.0.1', hostHeader: 'api.example.cn', url: `https://api.example.cn:${servers.a.port}/httpdns` });
    expect(flow.destination).toMatchObject({ ip: '127.0.0.1', domain: 'example.cn' });
  });

  it('sends an absolute-URI request to the URI, whatever Host says', async () => {
    const r = await curl([...proxy(), '-H', `Host: localhost:${servers.b.port}`, `http://127.0.0.1:${servers.plainA.port}/absolute`]);
    expect(r.stdout.toString()).toBe(`plain-A /absolute host=localhost:${servers.b.port}`);
    const flow = await flowFor('/absolute');
    expect(flow).toMatchObject({ host: '127.0.0.1', hostHeader: `localhost:${servers.b.port}` });
  });
});
