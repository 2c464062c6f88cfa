// Apps that resolve names themselves CONNECT to an address and name the host only in TLS SNI: leakscope's
// certificate must be for that name, or the app's hostname check fails and its traffic is lost.
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { proxyInFrontOfUpstream, waitFor } from '../helpers/leakscope';
import { startUpstream, type Upstream } from '../helpers/upstream';
import { collect, tunnel } from '../faults/raw';

describe('certificate chosen by SNI', () => {
  const env = proxyInFrontOfUpstream();
  /** a server whose certificate is for the name only: the one the app checks, and so the one leakscope must */
  let named: Upstream;
  beforeAll(async () => (named = await startUpstream({ certificateFor: 'api.example.test' })));
  afterAll(() => named?.close());

  async function getThroughTunnel(servername: string | undefined, path: string) {
    const port = servername ? named.port : env.upstream.port;
    const raw = await tunnel(env.app.proxyPort, `127.0.0.1:${port}`);
    // The client checks the certificate against `servername` (or the address when there is none).
    const socket = tls.connect({ socket: raw, ca: env.app.caPem, host: '127.0.0.1', ...(servername ? { servername } : {}) });
    await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
    const names = (socket.getPeerX509Certificate()?.subjectAltName ?? '').split(', ');
    socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`);
    return { names, reply: await collect(socket, 5000) };
  }

  it('presents a certificate for the SNI name when the CONNECT names an address, and asks the server for that name', async () => {
    const { names, reply } = await getThroughTunnel('api.example.test', '/sni-named');
    expect(names).toEqual(['DNS:api.example.test']);
    // The server's certificate is for the name alone: it passes leakscope's check only against the SNI name.
    expect(reply.data).toMatch(/^HTTP\/1\.1 200 /);
    await waitFor(() => env.app.store.summaries({ q: '/sni-named' })[0], 3000, 'the flow');
  });

  it('falls back to the CONNECT host without SNI', async () => {
    const { names, reply } = await getThroughTunnel(undefined, '/sni-none');
    expect(names).toEqual(['IP Address:127.0.0.1']);
    expect(reply.data).toMatch(/^HTTP\/1\.1 200 /);
  });
});
