// What one instance owns whether it captures in this process or in workers (hub.ts): the settings holders, the
// CA, the local store and a lab's shared one, the dashboard with its live feed, and a pipeline that writes to
// them. Also the two pieces every capturing process builds the same way: the pipeline over a writer
// (`capturePipeline`) and the proxy listener (`startProxy`).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ServerConfig } from '../shared/api';
import type { FlowSummary, UdpDroppedEvent } from '../shared/types';
import { ensureCa, type CaFiles, type LeafMinter } from './certs/authority';
import { startMitm, type MitmProxy } from './capture/mitm';
import { newViaToken, targetGuard, type OwnListener } from './capture/target-guard';
import { TlsFailureLog, type TlsFailure } from './capture/tls-failures';
import { clientAllowlist } from './config/client-allowlist';
import { IdentifiersHolder } from './config/identifiers-holder';
import { SharedSettings } from './config/shared-settings';
import { createDetector, type Detector } from './detect';
import { log } from './log';
import { createPipeline, type Pipeline } from './pipeline';
import { createTrackerAttributor } from './trackers/attribute';
import { RulesHolder } from './rules/rules-holder';
import { newToken } from './server/auth';
import { hostCheck } from './server/host-check';
import { isLoopbackHost, reachableAddresses } from './util/addresses';
import { SETUP_HOST, setupApp, type SetupInfo } from './server/setup-page';
import { AndroidSessions } from './server/android-api';
import { startUiServer, type UiServer } from './server/ui-server';
import { sqliteReader } from './store/flow-reader';
import { FlowStore } from './store/flow-store';
import { flowWriter, type FlowWriter } from './store/flow-writer';
import { PgFlowStore } from './store/pg-store';
import { SharedMirror } from './store/shared-mirror';
import { VERSION } from './version';
import { listenError } from './util/listen';
import { isTunnelInterface } from './wireguard/tunnel';
import type { StartOptions } from './app';

export function lanAddresses(): string[] {
  return Object.entries(os.networkInterfaces())
    .filter(([name]) => !isTunnelInterface(name))
    .flatMap(([, infos]) => infos ?? [])
    .filter((i) => i.family === 'IPv4' && !i.internal)
    .map((i) => i.address);
}

/** A marker set in this instance's dashboard goes to the shared store's session of the same name. */
function copyMarkers(store: FlowStore, shared: PgFlowStore): void {
  store.sessions.onMarker((m) => {
    shared.addMarker(store.sessions.nameOf(m.session) ?? String(m.session), m.time, m.text).catch((err: Error) => log.warn({ err: err.message }, 'a marker could not be written to the shared store'));
  });
}

/** The pipeline of a process that captures: its detector follows the identifiers, its flows go to `store`. */
export function capturePipeline(deps: {
  identifiers: IdentifiersHolder;
  rules: RulesHolder;
  store: FlowWriter;
  publish: (flow: FlowSummary) => void;
  deviceName: (client: string) => string | undefined;
  homeCountry?: string;
}): Pipeline {
  let detector: Detector = createDetector(deps.identifiers.get());
  deps.identifiers.onChange((ids) => (detector = createDetector(ids)));
  const trackers = createTrackerAttributor();
  trackers.warm();
  return createPipeline({ detector: () => detector, store: deps.store, publish: deps.publish, deviceName: deps.deviceName, rules: deps.rules, homeCountry: deps.homeCountry, trackers });
}

/** The explicit proxy on --proxy-host/--proxy-port with `pipeline` behind it; a listen failure is a usage error. */
export function startProxy(
  opts: StartOptions,
  deps: { ca: CaFiles; minter: LeafMinter; pipeline: Pipeline; listeners: () => OwnListener[]; setupInfo: SetupInfo; onTlsError: (failure: TlsFailure) => void },
): Promise<MitmProxy> {
  const phoneSetup = setupApp(deps.setupInfo);
  const host = opts.proxyHost ?? '0.0.0.0';
  const port = opts.proxyPort ?? 8080;
  return startMitm({
    host,
    port,
    caDir: deps.ca.dir,
    minter: deps.minter,
    hooks: deps.pipeline,
    upstreamCa: opts.upstreamCa,
    upstreamTimeout: opts.upstreamTimeout ?? 30_000,
    idleTimeout: opts.idleTimeout ?? 600_000,
    headersTimeout: opts.headersTimeout ?? 20_000,
    stopGrace: opts.stopGrace ?? 5_000,
    clientAllowed: clientAllowlist(opts.allow),
    guard: targetGuard({ listeners: deps.listeners, allowLocalTargets: opts.allowLocalTargets }),
    viaToken: newViaToken(),
    localHandler: (name) => (name === SETUP_HOST ? phoneSetup : undefined),
    onTlsError: deps.onTlsError,
  }).catch((err: NodeJS.ErrnoException) => {
    throw listenError(err, { hostOption: '--proxy-host', portOption: '--proxy-port', host, port });
  });
}

export interface Instance {
  identifiers: IdentifiersHolder;
  rules: RulesHolder;
  ca: CaFiles;
  instance: string;
  store: FlowStore;
  ui: UiServer;
  uiHost: string;
  token?: string;
  lan: string[];
  /** what /api/config answers; the proxy's port is filled in once it listens */
  config: ServerConfig;
  setupInfo: SetupInfo;
  android: AndroidSessions;
  /** what the target guard keeps clients away from; each listener joins once it has its port */
  listeners: OwnListener[];
  /** the local store, and the lab's through its outbox */
  writer: FlowWriter;
  /** stores through `writer` and streams to the dashboard */
  pipeline: Pipeline;
  /** a client's TLS with leakscope failed: counted, logged, and shown on the dashboard */
  tlsFailed(failure: TlsFailure): void;
  /** after the proxy has stopped and its flows are stored: the mirror, the dashboard, the session, the stores */
  close(): Promise<void>;
}

export async function openInstance(opts: StartOptions, entrances: { udpDropped: () => UdpDroppedEvent[]; peerName: (client: string) => string | undefined }): Promise<Instance> {
  fs.mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  fs.chmodSync(opts.dataDir, 0o700);
  const identifiers = new IdentifiersHolder(opts.identifiersFile ?? path.join(opts.dataDir, 'identifiers.json'));
  const rules = new RulesHolder(opts.rulesFile ?? path.join(opts.dataDir, 'rules.json'));
  const ca = await ensureCa(path.join(opts.dataDir, 'ca'));
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

  const tlsFailures = new TlsFailureLog();
  const uiHost = opts.uiHost ?? '127.0.0.1';
  const token = isLoopbackHost(uiHost) ? undefined : newToken();
  const lan = lanAddresses();
  const phoneReach = reachableAddresses(opts.proxyHost, lan);
  const config: ServerConfig = { proxy: { port: opts.proxyPort ?? 8080, lanAddresses: phoneReach }, setupUrl: `http://${SETUP_HOST}/`, version: VERSION };
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
      local: { store, tlsErrors: () => tlsFailures.list(), udpDropped: () => entrances.udpDropped(), dataDir: opts.dataDir, android },
    },
  }).catch(async (err: NodeJS.ErrnoException) => {
    await closeStores();
    throw listenError(err, { hostOption: '--ui-host', portOption: '--ui-port', host: uiHost, port: uiPort });
  });
  if (shared && store.outbox) {
    mirror = new SharedMirror(store, store.outbox, shared, (status) => ui.live.publishStoreStatus(status));
    mirror.start();
  }
  const writer = flowWriter(store, instance, mirror);
  const pipeline = capturePipeline({
    identifiers,
    rules,
    store: writer,
    publish: (flow) => ui.live.publishFlow(flow),
    deviceName: (client) => store.deviceName(client) ?? identifiers.deviceFor(client) ?? entrances.peerName(client),
    homeCountry: opts.homeCountry,
  });

  return {
    identifiers,
    rules,
    ca,
    instance,
    store,
    ui,
    uiHost,
    token,
    lan,
    config,
    setupInfo,
    android,
    listeners: [{ role: 'dashboard', host: uiHost, port: ui.port }],
    writer,
    pipeline,
    tlsFailed(failure) {
      const entry = tlsFailures.record(failure);
      // pino writes its own `time`; the event's would be a second key of that name in the line
      log.warn({ client: entry.client, host: entry.host, kind: entry.kind, count: entry.count, message: entry.message }, 'a client\'s TLS with leakscope failed');
      ui.live.publishTlsError(entry);
    },
    async close() {
      await pipeline.drain();
      await mirror?.close();
      await ui.close();
      store.sessions.endCurrent();
      await closeStores();
    },
  };
}
