// `leakscope diff A B`: what changed between two capture sessions, per device, identifier type, destination and
// encoding. `--fail-on-new` makes it a release gate: exit 1 when B sends anything A did not.
import { Command } from 'commander';
import type { DiffItem, DiffResult } from '../../shared/audit';
import { diffOf } from '../audit/diff';
import { sessionArg, withStoredFlows } from './stored';
import { textTable } from './text-table';

const time = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString().slice(0, 19).replace('T', ' '));

function printItems(title: string, items: DiffItem[], d: DiffResult, say: (line: string) => void): void {
  say(`${title} (${items.length})`);
  if (items.length === 0) return;
  const header = ['device', 'type', 'destination', 'encoding', `in ${d.a}`, `in ${d.b}`, `first/last in ${d.a}`, `first/last in ${d.b}`];
  const span = (first: number | null, last: number | null) => (first === null ? '-' : `${time(first)} / ${time(last)}`);
  const rows = items.map((i) => [i.device, i.type, i.destination, i.encoding, String(i.countA), String(i.countB), span(i.firstSeenA, i.lastSeenA), span(i.firstSeenB, i.lastSeenB)]);
  for (const line of textTable(header, rows)) say(`  ${line}`);
}

export function printDiff(d: DiffResult, say: (line: string) => void): void {
  say(`${d.a} → ${d.b}${d.device ? ` (device ${d.device})` : ''}: ${d.gained.length} gained, ${d.lost.length} lost, ${d.kept.length} kept`);
  printItems(`gained: sent in ${d.b}, not in ${d.a}`, d.gained, d, say);
  printItems(`lost: sent in ${d.a}, not in ${d.b}`, d.lost, d, say);
  printItems('kept', d.kept, d, say);
  const names = (xs: { destination: string }[]) => xs.map((x) => x.destination).join(', ') || 'none';
  say(`new destinations: ${names(d.destinations.new)}`);
  say(`destinations no longer contacted: ${names(d.destinations.gone)}`);
  say(`countries gained: ${d.countries.gained.join(', ') || 'none'}; lost: ${d.countries.lost.join(', ') || 'none'}`);
}

export function diffCommand(): Command {
  return new Command('diff')
    .description('compare two capture sessions: identifiers gained, lost and kept, new destinations, countries')
    .argument('<sessionA>', 'the session before (name or id)')
    .argument('<sessionB>', 'the session after (name or id)')
    .option('--data-dir <dir>', 'data dir to read (default ~/.leakscope)')
    .option('--json', 'print the diff as JSON')
    .option('--device <device>', 'only this device (name or client address)')
    .option('--fail-on-new', 'exit 1 when B sends anything A did not (a release gate)')
    .action((refA: string, refB: string, opts) =>
      withStoredFlows(opts.dataDir, (store) => {
        const d = diffOf(store, sessionArg(store, refA), sessionArg(store, refB), opts.device);
        const say = (line: string) => process.stdout.write(line + '\n');
        if (opts.json) say(JSON.stringify(d, null, 2));
        else printDiff(d, say);
        if (opts.failOnNew && d.gained.length > 0) process.exitCode = 1;
      }),
    );
}
