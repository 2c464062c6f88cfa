// `leakscope export`: captured flows as HAR 1.2, to a file or stdout.
import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { writeHar } from '../har/export';
import { FlowStore } from '../store/flow-store';
import { resolveDataDir } from './data-dir';
import { UsageError } from './errors';

export function exportCommand(): Command {
  return new Command('export')
    .description('write captured flows as HAR 1.2')
    .option('--data-dir <dir>', 'data dir to read (default ~/.leakscope)')
    .option('--flagged', 'only flows with findings')
    .option('--out <file>', 'HAR file to write (default: standard output)')
    .action((opts) => {
      const dataDir = resolveDataDir(opts.dataDir);
      if (!fs.existsSync(path.join(dataDir, 'flows.db'))) throw new UsageError(`--data-dir ${dataDir}: no captured flows there (flows.db missing)`);
      const store = new FlowStore(dataDir);
      try {
        let fd: number | undefined;
        if (opts.out) {
          try {
            fd = fs.openSync(opts.out, 'w');
          } catch (err) {
            throw new UsageError(`--out ${opts.out}: cannot write it (${(err as NodeJS.ErrnoException).code})`);
          }
        }
        const write = fd === undefined ? (s: string) => fs.writeSync(1, s) : (s: string) => fs.writeSync(fd, s);
        const n = writeHar(store.flows({ flagged: !!opts.flagged }), write);
        if (fd !== undefined) {
          fs.closeSync(fd);
          process.stderr.write(`wrote ${n} entries to ${opts.out}\n`);
        }
      } finally {
        store.close();
      }
    });
}
