// `leakscope dashboard --store postgres://…`: a dashboard-only node over a lab's shared store, until Ctrl-C.
import { Command } from 'commander';
import { buildDashboardIfStale } from './build-dashboard';
import { UsageError } from './errors';
import { closeOnSignal, collect, port } from './start';

export function dashboardCommand(): Command {
  return new Command('dashboard')
    .description("serve the dashboard and its API over a lab's shared store (every instance's flows), with no proxy")
    .option('--store <url>', 'the shared store, postgres://USER@HOST/DB (required)')
    .option('--ui-port <port>', 'dashboard port', port, 8081)
    .option('--ui-host <host>', 'address the dashboard listens on (beyond loopback, a token is required)', '127.0.0.1')
    .option('--ui-allowed-host <name>', 'another host name the dashboard answers to, e.g. behind a reverse proxy (repeatable)', collect, [])
    .action(async (opts) => {
      if (!opts.store) throw new UsageError('--store: the shared store to read, postgres://USER@HOST/DB');
      const say = (line: string) => process.stdout.write(line + '\n');
      await buildDashboardIfStale(say);
      const { startDashboardNode } = await import('../dashboard-node');
      const { safeStoreUrl } = await import('../store/pg-store');
      const node = await startDashboardNode({ store: opts.store, uiHost: opts.uiHost, uiPort: opts.uiPort, uiAllowedHosts: opts.uiAllowedHost });
      say(`dashboard            ${node.uiUrl}${node.token ? `?token=${node.token}` : ''}`);
      say(`shared store         ${safeStoreUrl(opts.store)}  (every instance's flows; no proxy here)`);
      closeOnSignal('stopping the dashboard node', () => node.close());
    });
}
