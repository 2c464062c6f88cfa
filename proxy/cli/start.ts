// `leakscope start`: proxy + dashboard until Ctrl-C.
import fs from 'node:fs';
import { Command, Option } from 'commander';
import QRCode from 'qrcode';
import { CAPTURE_MODES, type CaptureMode } from '../../shared/types';
import type { Leakscope } from '../app';
import { loadIdentifiersFile } from '../config/load-identifiers';
import { parseHomeCountry } from '../destination/foreign';
import { log } from '../log';
import { loadRulesFile } from '../rules/rules-holder';
import { checkSessionName } from '../store/session-log';
import { buildDashboardIfStale } from './build-dashboard';
import { resolveDataDir } from './data-dir';
import { UsageError } from './errors';
import { parseWorkers, resolveWorkers } from '../workers/check';

export function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new UsageError(`port ${value}: expected a number from 0 to 65535`);
  return n;
}

function sessionNameOption(value: string): string {
  try {
    return checkSessionName(value);
  } catch (err) {
    throw new UsageError(`--session: ${(err as Error).message}`);
  }
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function mode(value: string, previous: CaptureMode[] = []): CaptureMode[] {
  if (!(CAPTURE_MODES as readonly string[]).includes(value)) throw new UsageError(`--mode ${value}: expected one of ${CAPTURE_MODES.join(', ')}`);
  return [...previous, value as CaptureMode];
}

/** Each WireGuard peer's config as a QR code in the terminal, for the phone's WireGuard app to scan. */
async function sayWireguard(app: Leakscope, say: (line: string) => void): Promise<void> {
  const wg = app.entrances.wireguard;
  if (!wg) return;
  say(`wireguard            UDP ${app.lanAddresses[0] ?? '0.0.0.0'}:${wg.port} (interface ${wg.iface})`);
  for (const peer of wg.peers) {
    say(`wireguard peer       ${peer.name} (${peer.address}): scan this with the WireGuard app, or ${app.uiUrl}wireguard.conf?peer=${encodeURIComponent(peer.name)}`);
    say(await QRCode.toString(peer.conf, { type: 'terminal', small: true, errorCorrectionLevel: 'L' }));
  }
}

/** On SIGINT or SIGTERM (once): `close`, then `stopped` and exit 0; exit 1 when closing fails. */
export function closeOnSignal(what: string, close: () => Promise<void>, stopped: () => void = () => undefined): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, what);
    close().then(
      () => {
        stopped();
        process.exit(0);
      },
      (err: Error) => {
        log.error({ err: err.message }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

export function startCommand(): Command {
  return new Command('start')
    .description('start the proxy and the dashboard')
    .option('--proxy-port <port>', 'proxy port', port, 8080)
    .option('--proxy-host <host>', 'address the proxy listens on', '0.0.0.0')
    .option('--ui-port <port>', 'dashboard port', port, 8081)
    .option('--ui-host <host>', 'address the dashboard listens on (beyond loopback, a token is required)', '127.0.0.1')
    .option('--ui-allowed-host <name>', 'another host name the dashboard answers to, e.g. behind a reverse proxy (repeatable)', collect, [])
    .option('--data-dir <dir>', 'where flows, the CA and settings live (default ~/.leakscope)')
    .option('--identifiers <file>', 'identifiers file (JSON): the values to watch for')
    .option('--rules <file>', 'rules file (JSON): block, redact or allow identifiers (default DATA_DIR/rules.json)')
    .option('--home-country <cc>', 'flag flows whose identifiers leave for any other country (tag "foreign")', parseHomeCountry)
    .option('--allow <cidr>', 'also accept proxy clients from this range (repeatable)', collect, [])
    .option('--session <name>', 'capture session to record into (continued if it exists; default: a new one named by the start time)', sessionNameOption)
    .option('--allow-local-targets', 'let phones reach loopback and link-local addresses of this machine through the proxy (a local test server)')
    .option('--store <url>', 'a lab\'s shared store, postgres://USER@HOST/DB, written besides the local one (default: only SQLite in the data dir)')
    .option('--instance <name>', 'the name this process\'s flows carry in a shared store (default: the host name)')
    .option('--workers <n>', 'proxy processes behind the one proxy port, one store and one dashboard: a number, or auto for the core count up to 8 (regular mode only)', parseWorkers, 1)
    .option('--upstream-ca <file>', 'also trust this CA (PEM) for upstream servers (repeatable)', collect, [])
    .option('--mode <mode>', 'an entrance besides the explicit proxy: transparent, wireguard (repeatable; regular, the proxy, always runs)', mode, [])
    .option('--transparent-port <port>', 'transparent mode: the port redirected connections arrive on', port, 8082)
    .option('--wireguard-port <port>', 'WireGuard mode: the UDP port phones connect to', port, 51820)
    .option('--wireguard-peer <name>', 'WireGuard mode: a phone to let in, each with its own config and QR code (repeatable; default one, "phone")', collect, [])
    .option('--wireguard-endpoint <host>', 'WireGuard mode: the address phones reach this machine at (default: the first LAN address)')
    .addOption(new Option('--upstream-timeout <ms>', "ms to wait for an upstream's response headers").default(30_000).argParser(Number))
    .addOption(new Option('--idle-timeout <ms>', 'ms an open stream (SSE, long poll, WebSocket) may pass no byte before it is cut').default(600_000).argParser(Number))
    .addOption(new Option('--headers-timeout <ms>', 'ms a proxy client gets to send its request headers').default(20_000).argParser(Number))
    .addOption(new Option('--stop-grace <ms>', 'on Ctrl-C, ms in-flight flows get to finish before they are recorded as interrupted').default(5_000).argParser(Number))
    .action(async (opts) => {
      const say = (line: string) => process.stdout.write(line + '\n');
      const workers = resolveWorkers(opts.workers, opts.mode);
      if (opts.identifiers) loadIdentifiersFile(opts.identifiers); // fail fast with exit 2 on a bad file
      if (opts.rules) loadRulesFile(opts.rules);
      const upstreamCa = (opts.upstreamCa as string[]).map((file) => {
        try {
          return fs.readFileSync(file, 'utf8');
        } catch {
          throw new UsageError(`--upstream-ca ${file}: cannot read it`);
        }
      });
      await buildDashboardIfStale(say);
      // Loaded here, not at the top: the proxy's modules take seconds to load, which the offline commands need not wait for.
      const { startLeakscope } = await import('../app');
      const app = await startLeakscope({
        proxyHost: opts.proxyHost,
        proxyPort: opts.proxyPort,
        uiHost: opts.uiHost,
        uiPort: opts.uiPort,
        uiAllowedHosts: opts.uiAllowedHost,
        dataDir: resolveDataDir(opts.dataDir),
        identifiersFile: opts.identifiers,
        rulesFile: opts.rules,
        homeCountry: opts.homeCountry,
        allow: opts.allow,
        allowLocalTargets: opts.allowLocalTargets === true,
        upstreamCa,
        upstreamTimeout: opts.upstreamTimeout,
        idleTimeout: opts.idleTimeout,
        headersTimeout: opts.headersTimeout,
        stopGrace: opts.stopGrace,
        session: opts.session,
        modes: opts.mode,
        transparentPort: opts.transparentPort,
        wireguardPort: opts.wireguardPort,
        wireguardPeers: opts.wireguardPeer,
        wireguardEndpoint: opts.wireguardEndpoint,
        store: opts.store,
        instance: opts.instance,
        workers,
      });
      const phoneAddress = app.lanAddresses[0] ?? '127.0.0.1';
      say(`leakscope proxy      ${opts.proxyHost}:${app.proxyPort}  (phone Wi-Fi proxy: ${phoneAddress}:${app.proxyPort})`);
      say(`dashboard            ${app.uiUrl}${app.token ? `?token=${app.token}` : ''}`);
      say(`phone setup page     ${app.setupUrl}  (on the phone, through the proxy: http://leakscope.setup/)`);
      if (app.entrances.transparent) say(`transparent          ${opts.proxyHost}:${app.entrances.transparent.port}  (redirect TCP here; the original destination comes from conntrack)`);
      await sayWireguard(app, say);
      if (workers > 1) say(`proxy workers        ${workers} (pids ${(app.workerPids?.() ?? []).join(', ')})`);
      say(`data dir             ${resolveDataDir(opts.dataDir)}`);
      if (opts.store) say(`shared store         ${(await import('../store/pg-store')).safeStoreUrl(opts.store)}  (instance ${app.instance})`);
      say(`session              ${app.session.name}${app.session.flows ? ` (continued: ${app.session.flows} flows so far)` : ''}`);
      closeOnSignal('stopping: finishing in-flight flows', () => app.close(), () => say(`stopped; flows are saved in ${resolveDataDir(opts.dataDir)}`));
    });
}
