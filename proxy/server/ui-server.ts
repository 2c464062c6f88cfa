// The dashboard server: the built React app, the setup page and CA, the JSON API and socket.io, on one port.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { apiRouter, type ApiDeps } from './api';
import { requireToken } from './auth';
import { requireOwnHost, requireOwnOriginDownload } from './host-check';
import { LiveHub, type Replay } from './live';
import { setupRouter, type SetupInfo } from './setup-page';

export const DASHBOARD_DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dashboard/dist');

export interface UiServer {
  server: http.Server;
  live: LiveHub;
  port: number;
  close(): Promise<void>;
}

export function startUiServer(opts: {
  host: string;
  port: number;
  token?: string;
  /** the phone setup page and CA; absent on a dashboard node, which has no proxy */
  setup?: SetupInfo;
  api: ApiDeps;
  /** what a reconnecting dashboard missed */
  replay: Replay;
}): Promise<UiServer> {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  // Before anything else, the setup page and /api/health included: a rebound name must get nothing at all.
  app.use(requireOwnHost(opts.api.hostAllowed));
  app.use((_req, res, next) => {
    // The dashboard renders hostile captured content: forbid inline scripts and foreign origins outright.
    res.set('content-security-policy', "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self' ws: wss:; frame-ancestors 'none'");
    res.set('x-content-type-options', 'nosniff');
    res.set('referrer-policy', 'no-referrer');
    next();
  });
  // The setup page and the CA certificate are public by design: the phone fetches them before anything else.
  // A phone's WireGuard config holds its private key: on the dashboard it is a download like the HAR (the
  // dashboard's own pages, and its token beyond loopback), though the phone's own copy through the proxy is not.
  if (opts.setup) {
    app.get('/wireguard.conf', requireOwnOriginDownload(opts.api.hostAllowed), requireToken(opts.token));
    app.use(setupRouter(opts.setup));
  }
  app.get('/api/health', (_req, res) => void res.json({ ok: true }));
  app.use(requireToken(opts.token));
  app.use('/api', apiRouter(opts.api));
  const index = path.join(DASHBOARD_DIST, 'index.html');
  app.use(express.static(DASHBOARD_DIST, { index: false, maxAge: '1h' }));
  app.get(/.*/, (_req, res) => {
    if (fs.existsSync(index)) res.set('cache-control', 'no-cache').sendFile(index);
    else res.status(503).type('text').send('leakscope: the dashboard is not built; run `npm run build`\n');
  });

  const server = http.createServer(app);
  const live = new LiveHub(server, opts.replay, opts.token, opts.api.hostAllowed);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve({
        server,
        live,
        port: typeof address === 'object' && address ? address.port : opts.port,
        close: async () => {
          await live.close();
          server.closeAllConnections();
          await new Promise<void>((done) => server.close(() => done()));
        },
      });
    });
  });
}
