// `leakscope start`: proxy + dashboard until Ctrl-C.
import fs from 'node:fs';
import { Command, Option } from 'commander';
import { startLeakscope } from '../app';
import { loadIdentifiersFile } from '../config/load-identifiers';
import { parseHomeCountry } from '../destination/foreign';
import { log } from '../log';
import { loadRulesFile } from '../rules/rules-holder';
import { buildDashboardIfStale } from './build-dashboard';
import { resolveDataDir } from './data-dir';
import { UsageError } from './errors';

function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new UsageError(`port ${value}: expected a number from 0 to 65535`);
  return n;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
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
    .option('--upstream-ca <file>', 'also trust this CA (PEM) for upstream servers (repeatable)', collect, [])
    .addOption(new Option('--upstream-timeout <ms>', "ms to wait for an upstream's response headers").default(30_000).argParser(Number))
    .addOption(new Option('--idle-timeout <ms>', 'ms an open stream (SSE, long poll, WebSocket) may pass no byte before it is cut').default(600_000).argParser(Number))
    .addOption(new Option('--headers-timeout <ms>', 'ms a proxy client gets to send its request headers').default(20_000).argParser(Number))
    .addOption(new Option('--stop-grace <ms>', 'on Ctrl-C, ms in-flight flows get to finish before they are recorded as interrupted').default(5_000).argParser(Number))
    .action(async (opts) => {
      const say = (line: string) => process.stdout.write(line + '\n');
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
        upstreamCa,
        upstreamTimeout: opts.upstreamTimeout,
        idleTimeout: opts.idleTimeout,
        headersTimeout: opts.headersTimeout,
        stopGrace: opts.stopGrace,
      });
      const phoneAddress = app.lanAddresses[0] ?? '127.0.0.1';
      say(`leakscope proxy      ${opts.proxyHost}:${app.proxyPort}  (phone Wi-Fi proxy: ${phoneAddress}:${app.proxyPort})`);
      say(`dashboard            ${app.uiUrl}${app.token ? `?token=${app.token}` : ''}`);
      say(`phone setup page     ${app.setupUrl}  (on the phone, through the proxy: http://leakscope.setup/)`);
      say(`data dir             ${resolveDataDir(opts.dataDir)}`);
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        log.info({ signal }, 'stopping: finishing in-flight flows');
        app.close().then(
          () => {
            say(`stopped; flows are saved in ${resolveDataDir(opts.dataDir)}`);
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
    });
}
