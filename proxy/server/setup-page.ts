// The phone setup page: proxy address, QR code of this page, CA downloads, install steps, and in WireGuard mode
// each phone's tunnel config (a file and a QR code the WireGuard app scans).
// Served by the dashboard (/setup) and through the proxy (http://leakscope.setup/). Everything
// interpolated is escaped; nothing captured from traffic ever appears here.
import QRCode from 'qrcode';
import express from 'express';
import { pemToDer } from '../certs/authority';
import type { Peer } from '../wireguard/peers';

export const SETUP_HOST = 'leakscope.setup';

export interface SetupInfo {
  proxyPort: number;
  /** where a phone reaches the proxy (none when it listens on loopback only) */
  lanAddresses: string[];
  /** the address the proxy listens on, named when no phone can reach it */
  listenHost?: string;
  caPem: string;
  /** WireGuard mode's peers (one per phone), when it runs */
  wireguard?: Peer[];
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** The config file of one peer: `?peer=NAME`, or the first peer. */
export function peerConfig(peers: Peer[] | undefined, name: unknown): Peer | undefined {
  if (!peers?.length) return undefined;
  return typeof name === 'string' ? peers.find((p) => p.name === name) : peers[0];
}

async function wireguardSection(peers: Peer[] | undefined): Promise<string> {
  if (!peers?.length) return '';
  const cards = await Promise.all(
    peers.map(async (peer) => {
      const qr = await QRCode.toDataURL(peer.conf, { margin: 1, width: 260, errorCorrectionLevel: 'L' });
      const href = `/wireguard.conf?peer=${encodeURIComponent(peer.name)}`;
      return `<div class="box"><strong>${escapeHtml(peer.name)}</strong>: tunnel address <code>${escapeHtml(peer.address)}</code>
<img src="${qr}" alt="WireGuard QR code for ${escapeHtml(peer.name)}" width="260" height="260">
<a class="button" href="${escapeHtml(href)}">${escapeHtml(peer.name)}.conf</a></div>`;
    }),
  );
  return `<h2>WireGuard: capture every app, proxy setting or not</h2>
<p>Install the WireGuard app on the phone, add a tunnel by scanning its QR code (or import the file), install the CA
above, and switch the tunnel on. Leave the Wi-Fi proxy off: everything the phone sends goes through leakscope.
One QR code per phone: each is a device of its own, named by its tunnel address.</p>
${cards.join('\n')}`;
}

export async function renderSetupPage(info: SetupInfo): Promise<string> {
  const setupUrl = `http://${SETUP_HOST}/`;
  const qr = await QRCode.toDataURL(setupUrl, { margin: 1, width: 220 });
  const addresses = info.lanAddresses.map((a) => `<code>${escapeHtml(a)}:${info.proxyPort}</code>`).join(' or ');
  const proxyBox = addresses
    ? `<div class="box"><strong>Proxy:</strong> ${addresses}<br>
Set this as the phone's Wi-Fi proxy (manual, host and port). Then open <code>${escapeHtml(setupUrl)}</code> on the phone.</div>`
    : `<div class="box warn"><strong>No phone can reach the proxy:</strong> it listens only on <code>${escapeHtml(info.listenHost ?? '127.0.0.1')}:${info.proxyPort}</code>.
Start leakscope with <code>--proxy-host 0.0.0.0</code> (or this machine's LAN address) to capture a phone.</div>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>leakscope — phone setup</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:1.5rem auto;padding:0 1rem;color:#1d2330;background:#fff}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:1.6rem}code{background:#eef1f6;padding:.1rem .3rem;border-radius:4px}
.box{border:1px solid #cfd6e3;border-radius:8px;padding:1rem;margin:1rem 0}.warn{border-color:#d08a00;background:#fff8e6}
a.button{display:inline-block;background:#1f5fbf;color:#fff;padding:.45rem .9rem;border-radius:6px;text-decoration:none;margin:.2rem .4rem .2rem 0}
img{display:block}
</style></head><body>
<h1>leakscope — set up a test phone</h1>
${proxyBox}
<img src="${qr}" alt="QR code of ${escapeHtml(setupUrl)}" width="220" height="220">
<h2>1. Download the CA certificate</h2>
<a class="button" href="/ca.crt">CA for Android (DER, .crt)</a><a class="button" href="/ca.pem">CA as PEM (iOS, desktop)</a>
<h2>2. Install it</h2>
<h3>Android</h3>
<ol><li>Wi-Fi settings → long-press the network → Modify → Advanced → Proxy: Manual, the host and port above.</li>
<li>Open <code>${escapeHtml(setupUrl)}</code> in the browser and download <em>CA for Android</em>.</li>
<li>Settings → Security → Encryption &amp; credentials → Install a certificate → CA certificate → pick the file.</li></ol>
<h3>iOS</h3>
<ol><li>Settings → Wi-Fi → (i) → Configure Proxy → Manual: the host and port above.</li>
<li>Open <code>${escapeHtml(setupUrl)}</code> in Safari, tap <em>CA as PEM</em>, allow the profile download.</li>
<li>Settings → General → VPN &amp; Device Management → install the leakscope CA profile.</li>
<li>Settings → General → About → Certificate Trust Settings → enable full trust for <em>leakscope CA</em>.</li></ol>
<div class="box warn"><strong>Android 7 and later:</strong> apps that target API 24+ ignore user-installed CAs, so their
HTTPS fails through the proxy (these hosts show up as TLS errors in the dashboard). To see their traffic, use an emulator
with the CA in the system store, a debug build whose network security config trusts user CAs, or an app-side
unpinning tool.</div>
${await wireguardSection(info.wireguard)}
</body></html>`;
}

/** /setup, /ca.pem, /ca.crt: the routes a phone may reach through the proxy. */
export function setupRouter(info: SetupInfo): express.Router {
  const router = express.Router();
  const der = pemToDer(info.caPem);
  let page: Promise<string> | undefined;
  const sendPage: express.RequestHandler = (_req, res, next) => {
    page ??= renderSetupPage(info);
    page.then((html) => res.type('html').set('cache-control', 'no-store').send(html), next);
  };
  router.get('/setup', sendPage);
  router.get('/wireguard.conf', (req, res) => {
    const peer = peerConfig(info.wireguard, req.query.peer);
    if (!peer) return void res.status(404).type('text').send(info.wireguard ? 'no such peer\n' : 'WireGuard mode is not running (start --mode wireguard)\n');
    res
      .type('text/plain')
      .set('cache-control', 'no-store')
      .set('content-disposition', `attachment; filename="leakscope-${peer.name.replace(/[^A-Za-z0-9_-]/g, '_')}.conf"`)
      .send(peer.conf);
  });
  router.get('/ca.pem', (_req, res) => {
    res.type('application/x-pem-file').set('content-disposition', 'attachment; filename="leakscope-ca.pem"').send(info.caPem);
  });
  router.get('/ca.crt', (_req, res) => {
    res.type('application/x-x509-ca-cert').set('content-disposition', 'attachment; filename="leakscope-ca.crt"').send(der);
  });
  return router;
}

/** What a phone reaches at http://leakscope.setup/: the setup page and the CA, nothing else. */
export function setupApp(info: SetupInfo): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/', (_req, res) => res.redirect('/setup'));
  app.use(setupRouter(info));
  app.use((_req, res) => res.status(404).type('text').send('not found'));
  return app;
}
