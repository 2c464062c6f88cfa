// Each way a phone's TLS with leakscope fails is told apart and counted, with real clients: curl that does not
// trust our CA, a Node client that speaks only TLS 1.1, and a client that completes the handshake and hangs up.
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import type { TlsErrorEvent, TlsFailureKind } from '../../shared/types';
import { tunnel } from '../faults/raw';
import { curl, proxyInFrontOfUpstream, waitFor } from '../helpers/leakscope';

describe('TLS failures told apart', () => {
  const env = proxyInFrontOfUpstream();
  const listed = async (kind: TlsFailureKind, host: string) =>
    ((await (await fetch(`${env.app.uiUrl}api/tls-errors`)).json()) as TlsErrorEvent[]).find((e) => e.kind === kind && e.host === host);

  /** A TLS client through a CONNECT tunnel to `host`; resolves when the connection is over, however it ended. */
  const handshake = async (host: string, options: tls.ConnectionOptions, then: (socket: tls.TLSSocket) => void = () => {}) => {
    const raw = await tunnel(env.app.proxyPort, `${host}:${env.upstream.port}`);
    await new Promise<void>((resolve) => {
      const socket = tls.connect({ socket: raw, servername: host, ...options }, () => then(socket));
      socket.once('error', () => resolve());
      socket.once('close', () => resolve());
    });
  };

  it('a client that does not trust our CA: untrusted, counted per host', async () => {
    for (let i = 0; i < 2; i++) {
      const r = await curl(['-x', `http://127.0.0.1:${env.app.proxyPort}`, `https://localhost:${env.upstream.port}/untrusted`]);
      expect(r.code).not.toBe(0);
    }
    const entry = await waitFor(async () => ((await listed('untrusted', 'localhost'))?.count === 2 ? listed('untrusted', 'localhost') : undefined), 5000, 'two untrusted');
    expect(entry).toMatchObject({ client: '127.0.0.1', host: 'localhost', count: 2 });
    expect(entry.message).toMatch(/unknown ca/i);
    expect(entry.firstSeen).toBeLessThanOrEqual(entry.lastSeen);
  });

  it('a client that speaks only TLS 1.1: incompatible, not blamed on the app', async () => {
    await handshake('old.test', { ca: env.app.caPem, minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' });
    const entry = await waitFor(() => listed('incompatible', 'old.test'), 5000, 'incompatible');
    expect(entry.message).toMatch(/protocol|version/i);
    expect(await listed('untrusted', 'old.test')).toBeUndefined();
  });

  it('a client that completes the handshake and closes without a request: likely pinning', async () => {
    await handshake('pinned.test', { ca: env.app.caPem }, (socket) => socket.end());
    const entry = await waitFor(() => listed('closed-after-handshake', 'pinned.test'), 5000, 'closed after handshake');
    expect(entry.message).toMatch(/likely certificate pinning/);
    expect(entry.count).toBe(1);
  });

  it('likely pinning too when the server is up: the hang-up counts, not when the relay behind it closes', async () => {
    // A reachable server keeps the relay open after the client is gone; the report must not wait for that.
    const raw = await tunnel(env.app.proxyPort, `127.0.0.1:${env.upstream.port}`);
    await new Promise<void>((resolve) => {
      const socket = tls.connect({ socket: raw, host: '127.0.0.1', ca: env.app.caPem }, () => socket.end());
      socket.once('error', () => resolve());
      socket.once('close', () => resolve());
    });
    const entry = await waitFor(() => listed('closed-after-handshake', '127.0.0.1'), 5000, 'closed after handshake');
    expect(entry.count).toBe(1);
  });

  it('a client that sends a request after the handshake is no failure', async () => {
    await handshake('fine.test', { ca: env.app.caPem }, (socket) => socket.end('GET /fine HTTP/1.1\r\nHost: fine.test\r\nConnection: close\r\n\r\n'));
    // The pinning entry above was published after its close; this one would be too, by now.
    await waitFor(() => listed('closed-after-handshake', 'pinned.test'), 2000, 'the earlier entry');
    expect(await listed('closed-after-handshake', 'fine.test')).toBeUndefined();
  });
});
