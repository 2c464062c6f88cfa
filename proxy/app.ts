// Starts leakscope: CA, store, detector, proxy and dashboard, and stops them in the reverse order with
// every captured flow flushed to disk.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ServerConfig } from '../shared/api';
import type { SessionInfo } from '../shared/audit';
import type { CaptureMode, UdpDroppedEvent } from '../shared/types';
import { ensureCa, LeafMinter } from './certs/authority';
import { startEntrances, type Entrances } from './capture/entrances';
import { startMitm, type MitmProxy } from './capture/mitm';
import { newViaToken, targetGuard, type OwnListener } from './capture/target-guard';
import { TlsFailureLog } from './capture/tls-failures';
import { clientAllowlist } from './config/client-allowlist';
import { IdentifiersHolder } from './config/identifiers-holder';
import { SharedSettings } from './config/shared-settings';
import { createDetector, type Detector } from './detect';
import { log } from './log';
import { createPipeline } from './pipeline';
import { createTrackerAttributor } from './trackers/attribute';
import { RulesHolder } from './rules/rules-holder';
import { newToken } from './server/auth';
import { hostCheck } from './server/host-check';
import { isLoopbackHost, reachableAddresses } from './util/addresses';
import { SETUP_HOST, setupApp, type SetupInfo } from './server/setup-page';
import { AndroidSessions } from './server/android-api';
import { startUiServer } from './server/ui-server';
import { sqliteReader } from './store/flow-reader';
import { FlowStore } from './store/flow-store';
import { flowWriter } from './store/flow-writer';
import { PgFlowStore } from './store/pg-store';
import { SharedMirror } from './store/shared-mirror';
import { VERSION } from './version';
import { listenError } from './util/listen';
import { isTunnelInterface } from './wireguard/tunnel';

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
  /** ms an open stream may pass no byte either way before it is cut (default 10 minutes) */
  idleTimeout?: number;
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
  /** the capture session flows go to: continued if the name exists; default a new one named by the start time */
  session?: string;
  /** more names the dashboard answers to (`--ui-allowed-host`), besides loopback, its bind address and, beyond
   * loopback, the machine's own names */
  uiAllowedHosts?: string[];
  /** let clients beyond loopback reach loopback and link-local addresses through the proxy */
  allowLocalTargets?: boolean;
  /** the entrances besides the explicit proxy (which always runs): `transparent`, `wireguard` */
  modes?: CaptureMode[];
  /** transparent mode's port (default 8082), on proxyHost */
  transparentPort?: number;
  /** WireGuard mode's UDP port (default 51820) */
  wireguardPort?: number;
  /** the phones WireGuard mode lets in, by name (default one, `phone`) */
  wireguardPeers?: string[];
  /** the address phones reach WireGuard mode at (default: the first LAN address) */
  wireguardEndpoint?: string;
  /** a lab's shared store, `postgres://USER@HOST/DB`: every flow, finding, session and marker is written there too */
  store?: string;
  /** the name this process's flows carry (default: the host name) */
  instance?: string;
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
  /** the name this process's flows carry */
  instance: string;
  /** hands a connection from another entrance (transparent, WireGuard) to the classifier; see capture/classify.ts */
  interceptConnection: MitmProxy['interceptConnection'];
  /** the session this run started in */
  session: SessionInfo;
  /** the transparent and WireGuard entrances that run */
  entrances: Entrances;
  close(): Promise<void>;
}

export { VERSION };

/** A marker set in this instance's dashboard goes to the shared store's session of the same name. */
function copyMarkers(store: FlowStore, shared: PgFlowStore): void {
  store.sessions.onMarker((m) => {
    shared.addMarker(store.sessions.nameOf(m.session) ?? String(m.session), m.time, m.text).catch((err: Error) => log.warn({ err: err.message }, 'a marker could not be written to the shared store'));
  });
}

export function lanAddresses(): string[] {
  return Object.entries(os.networkInterfaces())
    .filter(([name]) => !isTunnelInterface(name))
    .flatMap(([, infos]) => infos ?? [])
    .filter((i) => i.family === 'IPv4' && !i.internal)
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
  const instance = opts.instance ?? os.hostname();
  const shared = opts.store === undefined ? undefined : await PgFlowStore.open(opts.store, instance);
  const settings = shared && (await SharedSettings.attach(shared, { identifiers, rules }).catch(async (err: Error) => (await shared.close(), Promise.reject(err))));
  const store = new FlowStore(opts.dataDir, { outbox: shared !== undefined });
  if (shared) copyMarkers(store, shared);
  let mirror: SharedMirror | undefined;
  const closeStores = async () => {
    store.close();
    await settings?.close();
    await shared?.close();
  };

  let detector: Detector = createDetector(identifiers.get());
  identifiers.onChange((ids) => (detector = createDetector(ids)));

  const tlsFailures = new TlsFailureLog();
  const uiHost = opts.uiHost ?? '127.0.0.1';
  const token = isLoopbackHost(uiHost) ? undefined : newToken();
  const lan = lanAddresses();
  const phoneReach = reachableAddresses(opts.proxyHost, lan);
  const config: ServerConfig = { proxy: { port: opts.proxyPort ?? 8080, lanAddresses: phoneReach }, setupUrl: `http://${SETUP_HOST}/`, version: VERSION };
  let udpDropped: () => UdpDroppedEvent[] = () => [];
  const setupInfo: SetupInfo = { proxyPort: config.proxy.port, lanAddresses: phoneReach, listenHost: opts.proxyHost ?? '0.0.0.0', caPem: ca.certPem };
  const android = new AndroidSessions({ caPem: ca.certPem, proxyPort: () => config.proxy.port });

  const uiPort = opts.uiPort ?? 8081;
  const ui = await startUiServer({
    host: uiHost,
    port: uiPort,
    token,
    setup: setupInfo,
    replay: (after, limit) => store.summaries({ after, limit }),
    api: {
      reader: sqliteReader(store, instance),
      config,
      hostAllowed: hostCheck({ uiHost, extra: opts.uiAllowedHosts }),
      storeStatus: () => mirror?.current(),
      settings: { identifiers, rules },
      local: { store, tlsErrors: () => tlsFailures.list(), udpDropped: () => udpDropped(), dataDir: opts.dataDir, android },
    },
  }).catch(async (err: NodeJS.ErrnoException) => {
    await closeStores();
    throw listenError(err, { hostOption: '--ui-host', portOption: '--ui-port', host: uiHost, port: uiPort });
  });
  if (shared && store.outbox) {
    mirror = new SharedMirror(store, store.outbox, shared, (status) => ui.live.publishStoreStatus(status));
    mirror.start();
  }
  const trackers = createTrackerAttributor();
  trackers.warm();
  const pipeline = createPipeline({
    detector: () => detector,
    store: flowWriter(store, instance, mirror),
    publish: (flow) => ui.live.publishFlow(flow),
    deviceName: (client) => store.deviceName(client) ?? identifiers.deviceFor(client) ?? entrances?.peerName(client),
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
    idleTimeout: opts.idleTimeout ?? 600_000,
    headersTimeout: opts.headersTimeout ?? 20_000,
    stopGrace: opts.stopGrace ?? 5_000,
    clientAllowed,
    guard: targetGuard({ listeners: () => listeners, allowLocalTargets: opts.allowLocalTargets }),
    viaToken: newViaToken(),
    localHandler: (host) => (host === SETUP_HOST ? phoneSetup : undefined),
    onTlsError: (failure) => {
      const entry = tlsFailures.record(failure);
      // pino writes its own `time`; the event's would be a second key of that name in the line
      log.warn({ client: entry.client, host: entry.host, kind: entry.kind, count: entry.count, message: entry.message }, 'a client\'s TLS with leakscope failed');
      ui.live.publishTlsError(entry);
    },
  }).catch(async (err: NodeJS.ErrnoException) => {
    await ui.close();
    await closeStores();
    throw listenError(err, { hostOption: '--proxy-host', portOption: '--proxy-port', host: opts.proxyHost ?? '0.0.0.0', port: opts.proxyPort ?? 8080 });
  });
  // Begun once the proxy listens (in the same turn, before any flow can complete), so a start that fails on a
  // port in use leaves no empty session behind.
  const session = store.sessions.begin(opts.session);
  config.proxy.port = proxy.port;
  listeners.push({ role: 'proxy', host: opts.proxyHost ?? '0.0.0.0', port: proxy.port });
  setupInfo.proxyPort = proxy.port;

  let entrances: Entrances | undefined;
  try {
    entrances = await startEntrances({
      modes: opts.modes ?? [],
      host: opts.proxyHost ?? '0.0.0.0',
      transparentPort: opts.transparentPort ?? 8082,
      wireguardPort: opts.wireguardPort ?? 51820,
      wireguardPeers: opts.wireguardPeers?.length ? opts.wireguardPeers : ['phone'],
      endpointHost: opts.wireguardEndpoint ?? lan[0] ?? '127.0.0.1',
      dataDir: opts.dataDir,
      clientAllowed,
      intercept: proxy.interceptConnection,
      onUdpDropped: (event) => ui.live.publishUdpDropped(event),
    });
  } catch (err) {
    await proxy.close();
    await ui.close();
    store.sessions.endCurrent();
    await closeStores();
    throw err;
  }
  listeners.push(...entrances.listeners);
  setupInfo.wireguard = entrances.wireguard?.peers;
  udpDropped = () => entrances?.wireguard?.udpDropped() ?? [];

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
    instance,
    interceptConnection: proxy.interceptConnection,
    session,
    entrances,
    close() {
      closed ??= (async () => {
        // Phones set up from the dashboard first: a proxy setting pointing at nothing leaves them offline.
        await android.undoAll();
        await proxy.close();
        // The tunnel and its rules stay up while the flows under way get their grace, then go.
        await entrances.close();
        await pipeline.drain();
        await mirror?.close();
        await ui.close();
        store.sessions.endCurrent();
        await closeStores();
      })();
      return closed;
    },
  };
}
