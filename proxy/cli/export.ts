// `leakscope export`: captured flows as HAR 1.2, to a file or stdout.
import fs from 'node:fs';
import { Command } from 'commander';
import { writeHar } from '../har/export';
import { filterOption } from './filter-option';
import { UsageError } from './errors';
import { sessionArg, withStoredFlows } from './stored';

export function exportCommand(): Command {
  return new Command('export')
    .description('write captured flows as HAR 1.2')
    .option('--data-dir <dir>', 'data dir to read (default ~/.leakscope)')
    .option('--flagged', 'only flows with findings')
    .option('--session <name>', 'only the flows of this capture session')
    .option('--filter <expr>', 'only the flows matching a filter expression (README "Filter expressions")')
    .option('--out <file>', 'HAR file to write (default: standard output)')
    .action((opts) => {
      const filter = filterOption(opts.filter);
      return withStoredFlows(opts.dataDir, (store) => {
        const session = opts.session === undefined ? undefined : sessionArg(store, opts.session).id;
        let fd: number | undefined;
        if (opts.out) {
          try {
            fd = fs.openSync(opts.out, 'w');
          } catch (err) {
            throw new UsageError(`--out ${opts.out}: cannot write it (${(err as NodeJS.ErrnoException).code})`);
          }
        }
        const write = fd === undefined ? (s: string) => fs.writeSync(1, s) : (s: string) => fs.writeSync(fd, s);
        const n = writeHar(store.flows({ flagged: !!opts.flagged, session, filter }), write);
        if (fd !== undefined) {
          fs.closeSync(fd);
          process.stderr.write(`wrote ${n} entries to ${opts.out}\n`);
        }
      });
    });
}
