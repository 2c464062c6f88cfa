// Starts leakscope: CA, store, detector, proxy and dashboard, and stops them in the reverse order with
// every captured flow flushed to disk.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ServerConfig } from '../shared/api';
import type { TlsErrorEvent } from '../shared/types';
import { ensureCa, LeafMinter } from './certs/authority';
import { startMitm } from './capture/mitm';
import { newViaToken, targetGuard, type OwnListener } from './capture/target-guard';
import { clientAllowlist } from './config/client-allowlist';
import { IdentifiersHolder } from './config/identifiers-holder';
import { createDetector, type Detector } from './detect';
import { log } from './log';
import { createPipeline } from './pipeline';
import { createTrackerAttributor } from './trackers/attribute';
import { RulesHolder } from './rules/rules-holder';
import { newToken } from './server/auth';
import { hostCheck } from './server/host-check';
import { isLoopbackHost } from './util/addresses';
import { SETUP_HOST, setupApp } from './server/setup-page';
import { startUiServer } from './server/ui-server';
import { FlowStore } from './store/flow-store';

export interface StartOptions {
  proxyHost?: string;
  proxyPort?: number;
  uiHost?: string;
  uiPort?: number;
  dataDir: string;
  /** the identifiers file; default DATA_DIR/identifiers.json */
  identifiersFile?: string;
  /** extra CA certificates (PEM text) trusted for upstream servers */
  upstreamCa?: string[];
  /** ms to wait for an upstream's response headers */
  upstreamTimeout?: number;
  /** CIDRs allowed to use the proxy besides loopback and private ranges */
  allow?: string[];
  /** ms a proxy client gets to send a request's headers (slowloris guard); default 20 s */
  headersTimeout?: number;
  /** ms in-flight flows get to finish on close before they are recorded as interrupted; default 5 s */
  stopGrace?: number;
  /** the rules file; default DATA_DIR/rules.json */
  rulesFile?: string;
  /** ISO country code: identifiers leaving for any other country tag the flow `foreign` */
  homeCountry?: string;
  /** more names the dashboard answers to (`--ui-allowed-host`), besides loopback, its bind address and, beyond
   * loopback, the machine's own names */
  uiAllowedHosts?: string[];
  /** let clients beyond loopback reach loopback and link-local addresses through the proxy */
  allowLocalTargets?: boolean;
}

export interface Leakscope {
  proxyPort: number;
  uiPort: number;
  uiUrl: string;
  setupUrl: string;
  lanAddresses: string[];
  /** required by the dashboard when it listens beyond loopback */
  token?: string;
  caPem: string;
  store: FlowStore;
  close(): Promise<void>;
}

export const VERSION = '0.1.0';
const MAX_TLS_ERRORS = 500;

export function lanAddresses(): string[] {
  return Object.values(os.networkInterfaces())
    .flat()
    .filter((i): i is os.NetworkInterfaceInfo => !!i && i.family === 'IPv4' && !i.internal)
    .map((i) => i.address);
}

export async function startLeakscope(opts: StartOptions): Promise<Leakscope> {
  fs.mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  fs.chmodSync(opts.dataDir, 0o700);
  const identifiers = new IdentifiersHolder(opts.identifiersFile ?? path.join(opts.dataDir, 'identifiers.json'));
  const rules = new RulesHolder(opts.rulesFile ?? path.join(opts.dataDir, 'rules.json'));
  const clientAllowed = clientAllowlist(opts.allow);
  const ca = await ensureCa(path.join(opts.dataDir, 'ca'));
  const minter = await LeafMinter.create(ca);
  const store = new FlowStore(opts.dataDir);

  let detector: Detector = createDetector(identifiers.get());
  identifiers.onChange((ids) => (detector = createDetector(ids)));

  const tlsErrors: TlsErrorEvent[] = [];
  const uiHost = opts.uiHost ?? '127.0.0.1';
  const token = isLoopbackHost(uiHost) ? undefined : newToken();
  const lan = lanAddresses();
  const config: ServerConfig = { proxy: { port: opts.proxyPort ?? 8080, lanAddresses: lan }, setupUrl: `http://${SETUP_HOST}/`, version: VERSION };
  const setupInfo = { proxyPort: config.proxy.port, lanAddresses: lan, caPem: ca.certPem };

  const ui = await startUiServer({
    host: uiHost,
    port: opts.uiPort ?? 8081,
    token,
    setup: setupInfo,
    store,
    api: { store, identifiers, rules, tlsErrors: () => tlsErrors, config, hostAllowed: hostCheck({ uiHost, extra: opts.uiAllowedHosts }) },
  });
  const trackers = createTrackerAttributor();
  trackers.warm();
  const pipeline = createPipeline({
    detector: () => detector,
    store,
    publish: (flow) => ui.live.publishFlow(flow),
    deviceName: (client) => store.deviceName(client) ?? identifiers.deviceFor(client),
    rules,
    homeCountry: opts.homeCountry,
    trackers,
  });

  const phoneSetup = setupApp(setupInfo);
  // What the guard keeps clients away from; each listener joins once it has its port.
  const listeners: OwnListener[] = [{ role: 'dashboard', host: uiHost, port: ui.port }];
  const proxy = await startMitm({
    host: opts.proxyHost ?? '0.0.0.0',
    port: opts.proxyPort ?? 8080,
    caDir: ca.dir,
    minter,
    hooks: pipeline,
    upstreamCa: opts.upstreamCa,
    upstreamTimeout: opts.upstreamTimeout ?? 30_000,
    headersTimeout: opts.headersTimeout ?? 20_000,
    stopGrace: opts.stopGrace ?? 5_000,
    clientAllowed,
    guard: targetGuard({ listeners: () => listeners, allowLocalTargets: opts.allowLocalTargets }),
    viaToken: newViaToken(),
    localHandler: (host) => (host === SETUP_HOST ? phoneSetup : undefined),
    onTlsError: (event) => {
      tlsErrors.unshift(event);
      tlsErrors.length = Math.min(tlsErrors.length, MAX_TLS_ERRORS);
      // pino writes its own `time`; the event's would be a second key of that name in the line
      log.warn({ client: event.client, host: event.host, message: event.message }, 'a client refused our certificate');
      ui.live.publishTlsError(event);
    },
    onWebSocketMessage: (message) => pipeline.webSocketMessage(message),
  }).catch(async (err: Error) => {
    await ui.close();
    store.close();
    throw err;
  });
  config.proxy.port = proxy.port;
  listeners.push({ role: 'proxy', host: opts.proxyHost ?? '0.0.0.0', port: proxy.port });
  setupInfo.proxyPort = proxy.port;

  const uiUrl = `http://${uiHost.includes(':') ? `[${uiHost}]` : uiHost}:${ui.port}/`;
  let closed: Promise<void> | undefined;
  return {
    proxyPort: proxy.port,
    uiPort: ui.port,
    uiUrl,
    setupUrl: `${uiUrl}setup`,
    lanAddresses: lan,
    token,
    caPem: ca.certPem,
    store,
    close() {
      closed ??= (async () => {
        await proxy.close();
        await pipeline.drain();
        await ui.close();
        store.close();
      })();
      return closed;
    },
  };
}
