// The leakscope command line (CONTRACT.md): start, dashboard, scan, export, canaries, sessions, diff, report, android. Exit 2 on
// bad usage or input.
import { Command, CommanderError } from 'commander';
import { VERSION } from '../version';
import { UsageError } from './errors';
import { androidCommand } from './android';
import { exportCommand } from './export';
import { canariesCommand } from './canaries';
import { dashboardCommand } from './dashboard';
import { diffCommand } from './diff';
import { reportCommand } from './report';
import { scanCommand } from './scan';
import { sessionsCommand } from './sessions';
import { startCommand } from './start';

const program = new Command('leakscope')
  .description('privacy-leak intercepting proxy for test phones')
  .version(VERSION)
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) })
  .addCommand(startCommand())
  .addCommand(dashboardCommand())
  .addCommand(scanCommand())
  .addCommand(exportCommand())
  .addCommand(canariesCommand())
  .addCommand(sessionsCommand())
  .addCommand(diffCommand())
  .addCommand(reportCommand())
  .addCommand(androidCommand());

for (const cmd of program.commands) cmd.exitOverride();

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // help and version exit 0; every other commander complaint is bad usage.
    process.exit(err.exitCode === 0 ? 0 : 2);
  }
  if (err instanceof UsageError) {
    process.stderr.write(`leakscope: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`leakscope: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
}
