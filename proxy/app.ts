// Starts leakscope: CA, store, detector, proxy and dashboard, and stops them in the reverse order with
// every captured flow flushed to disk.
import type { SessionInfo } from '../shared/audit';
import type { CaptureMode } from '../shared/types';
import { LeafMinter } from './certs/authority';
import { startEntrances, type Entrances } from './capture/entrances';
import type { MitmProxy } from './capture/mitm';
import { clientAllowlist } from './config/client-allowlist';
import { openInstance, startProxy, type Instance } from './instance';
import type { FlowStore } from './store/flow-store';
import { VERSION } from './version';

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
  /** proxy processes behind the one port (default 1: capture in this process; see hub.ts) */
  workers?: number;
  /** with workers: ms a worker may go unheard (not even answering a ping) before it is taken as hung, ended and
   * replaced; default 30 s */
  hungWorkerMs?: number;
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
  /** with `workers` > 1: the pids of the proxy processes behind the port, as they run now */
  workerPids?: () => number[];
  close(): Promise<void>;
}

export { VERSION };
export { lanAddresses } from './instance';

export async function startLeakscope(opts: StartOptions): Promise<Leakscope> {
  if ((opts.workers ?? 1) > 1) return (await import('./hub')).startHub(opts);
  let entrances: Entrances | undefined;
  const core = await openInstance(opts, { udpDropped: () => entrances?.wireguard?.udpDropped() ?? [], peerName: (client) => entrances?.peerName(client) });
  const { ca, config, setupInfo, listeners, pipeline, store } = core;
  const minter = await LeafMinter.create(ca);
  const proxy = await startProxy(opts, { ca, minter, pipeline, listeners: () => listeners, setupInfo, onTlsError: (failure) => core.tlsFailed(failure) }).catch(async (err: Error) => {
    await core.close();
    throw err;
  });
  // Begun once the proxy listens (in the same turn, before any flow can complete), so a start that fails on a
  // port in use leaves no empty session behind.
  const session = store.sessions.begin(opts.session);
  config.proxy.port = proxy.port;
  listeners.push({ role: 'proxy', host: opts.proxyHost ?? '0.0.0.0', port: proxy.port });
  setupInfo.proxyPort = proxy.port;

  try {
    entrances = await startEntrances({
      modes: opts.modes ?? [],
      host: opts.proxyHost ?? '0.0.0.0',
      transparentPort: opts.transparentPort ?? 8082,
      wireguardPort: opts.wireguardPort ?? 51820,
      wireguardPeers: opts.wireguardPeers?.length ? opts.wireguardPeers : ['phone'],
      endpointHost: opts.wireguardEndpoint ?? core.lan[0] ?? '127.0.0.1',
      dataDir: opts.dataDir,
      clientAllowed: clientAllowlist(opts.allow),
      intercept: proxy.interceptConnection,
      onUdpDropped: (event) => core.ui.live.publishUdpDropped(event),
    });
  } catch (err) {
    await proxy.close();
    await core.close();
    throw err;
  }
  listeners.push(...entrances.listeners);
  setupInfo.wireguard = entrances.wireguard?.peers;

  const opened = entrances;
  let closed: Promise<void> | undefined;
  return {
    ...addresses(core),
    proxyPort: proxy.port,
    interceptConnection: proxy.interceptConnection,
    session,
    entrances: opened,
    close() {
      closed ??= (async () => {
        // Phones set up from the dashboard first: a proxy setting pointing at nothing leaves them offline.
        await core.android.undoAll();
        await proxy.close();
        // The tunnel and its rules stay up while the flows under way get their grace, then go.
        await opened.close();
        await core.close();
      })();
      return closed;
    },
  };
}

/** What a started leakscope tells its caller about where it is, whichever way it captures. */
export function addresses(core: Instance): Pick<Leakscope, 'uiPort' | 'uiUrl' | 'setupUrl' | 'lanAddresses' | 'token' | 'caPem' | 'store' | 'instance'> {
  const uiUrl = `http://${core.uiHost.includes(':') ? `[${core.uiHost}]` : core.uiHost}:${core.ui.port}/`;
  return { uiPort: core.ui.port, uiUrl, setupUrl: `${uiUrl}setup`, lanAddresses: core.lan, token: core.token, caPem: core.ca.certPem, store: core.store, instance: core.instance };
}
