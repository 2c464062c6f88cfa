// `leakscope dashboard --store postgres://…`: the dashboard and its API over a lab's shared store, every
// instance's flows, with no proxy of its own. Live flows come from the store itself (server/store-tail.ts); the
// identifiers and rules it shows and edits are the store's (config/shared-settings.ts), held in memory here.
import os from 'node:os';
import type { ServerConfig } from '../shared/api';
import { IdentifiersHolder } from './config/identifiers-holder';
import { SharedSettings } from './config/shared-settings';
import { RulesHolder } from './rules/rules-holder';
import { newToken } from './server/auth';
import { hostCheck } from './server/host-check';
import { StoreTail } from './server/store-tail';
import { startUiServer } from './server/ui-server';
import { PgFlowReader } from './store/pg-reader';
import { isLoopbackHost } from './util/addresses';
import { listenError } from './util/listen';
import { VERSION } from './version';

export interface DashboardNodeOptions {
  /** postgres://USER@HOST/DB */
  store: string;
  uiHost?: string;
  uiPort?: number;
  uiAllowedHosts?: string[];
}

export interface DashboardNode {
  uiPort: number;
  uiUrl: string;
  /** required by the dashboard when it listens beyond loopback */
  token?: string;
  close(): Promise<void>;
}

export async function startDashboardNode(opts: DashboardNodeOptions): Promise<DashboardNode> {
  const reader = await PgFlowReader.open(opts.store);
  const holders = { identifiers: new IdentifiersHolder(), rules: new RulesHolder() };
  const settings = await SharedSettings.attach({ pool: reader.pool, url: opts.store, instance: `dashboard@${os.hostname()}` }, holders).catch(async (err: Error) => {
    await reader.close();
    throw err;
  });
  const tail = new StoreTail(reader, opts.store, await StoreTail.newest(reader));
  const uiHost = opts.uiHost ?? '127.0.0.1';
  const uiPort = opts.uiPort ?? 8081;
  const token = isLoopbackHost(uiHost) ? undefined : newToken();
  // No proxy here: the setup view has nothing to point a phone at.
  const config: ServerConfig = { proxy: { port: 0, lanAddresses: [] }, setupUrl: '', version: VERSION };
  const ui = await startUiServer({
    host: uiHost,
    port: uiPort,
    token,
    // Up to what the tail has published: the rest reaches the dashboard live, once it is in the room.
    replay: (after, limit) => reader.summaries({ after, before: tail.published + 1, limit }),
    api: { reader, config, hostAllowed: hostCheck({ uiHost, extra: opts.uiAllowedHosts }), storeStatus: () => tail.status, settings: holders },
  }).catch(async (err: NodeJS.ErrnoException) => {
    await settings.close();
    await reader.close();
    throw listenError(err, { hostOption: '--ui-host', portOption: '--ui-port', host: uiHost, port: uiPort });
  });
  tail.start(ui.live);
  const uiUrl = `http://${uiHost.includes(':') ? `[${uiHost}]` : uiHost}:${ui.port}/`;
  let closed: Promise<void> | undefined;
  return {
    uiPort: ui.port,
    uiUrl,
    token,
    close() {
      closed ??= (async () => {
        await tail.close();
        await ui.close();
        await settings.close();
        await reader.close();
      })();
      return closed;
    },
  };
}
