// `leakscope sessions`: the capture sessions in a data dir, with their flows and markers, for diff and report.
import { Command } from 'commander';
import { withStoredFlows } from './stored';
import { textTable } from './text-table';

const time = (ms: number | undefined) => (ms === undefined ? '-' : new Date(ms).toISOString().slice(0, 19).replace('T', ' '));

export function sessionsCommand(): Command {
  return new Command('sessions')
    .description('list the capture sessions in the data dir')
    .option('--data-dir <dir>', 'data dir to read (default ~/.leakscope)')
    .option('--json', 'print them as JSON (what GET /api/sessions answers)')
    .action((opts) =>
      withStoredFlows(opts.dataDir, (store) => {
        const sessions = store.sessions.list();
        if (opts.json) return void process.stdout.write(JSON.stringify(sessions, null, 2) + '\n');
        const rows = sessions.map((s) => [String(s.id), s.name, time(s.started), s.ended === undefined ? 'open' : time(s.ended), String(s.flows), String(s.flagged), String(s.markers.length)]);
        for (const line of textTable(['id', 'name', 'started', 'ended', 'flows', 'flagged', 'markers'], rows)) process.stdout.write(line + '\n');
      }),
    );
}
