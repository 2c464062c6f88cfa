// `leakscope report --session S [--against A] --out DIR`: the evidence bundle (report.html, report.pdf,
// evidence.har) for one capture session.
import path from 'node:path';
import { Command } from 'commander';
import { writeReport } from '../audit/report/write';
import { existingCaPem } from '../certs/authority';
import { hasChromium, CHROMIUM_PATH } from '../util/chromium';
import { UsageError } from './errors';
import { sessionArg, withStoredFlows } from './stored';
import { VERSION } from '../version';

export function reportCommand(): Command {
  return new Command('report')
    .description('write the evidence report of a capture session: report.html, report.pdf, evidence.har')
    .requiredOption('--session <name>', 'the session to report on (name or id)')
    .option('--against <name>', 'a session to compare it with (e.g. the one before an update)')
    .option('--data-dir <dir>', 'data dir to read (default ~/.leakscope)')
    .requiredOption('--out <dir>', 'folder to write the three files into')
    .action((opts) =>
      withStoredFlows(opts.dataDir, async (store, dataDir) => {
        const session = sessionArg(store, opts.session);
        const against = opts.against === undefined ? undefined : sessionArg(store, opts.against);
        if (!hasChromium()) throw new UsageError(`report.pdf is printed by Debian chromium, and ${CHROMIUM_PATH} is missing (apt-get install chromium)`);
        const outDir = path.resolve(opts.out);
        const written = await writeReport(store, { session, against, caPem: existingCaPem(path.join(dataDir, 'ca')), version: VERSION, outDir }).catch((err: NodeJS.ErrnoException) => {
          if (err.code === 'EACCES' || err.code === 'ENOTDIR' || err.code === 'EEXIST') throw new UsageError(`--out ${opts.out}: cannot write there (${err.code})`);
          throw err;
        });
        const say = (line: string) => process.stdout.write(line + '\n');
        say(`session ${session.name}: ${written.flows} flows, ${written.flagged} flagged${against ? `, compared with ${against.name}` : ''}`);
        for (const file of written.files) say(`wrote ${file}`);
        say(`evidence.har SHA-256 ${written.harSha256}`);
      }),
    );
}
