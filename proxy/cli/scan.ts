// `leakscope scan FILE.har`: offline detection over every request of a HAR file (CONTRACT.md).
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { EMPTY_IDENTIFIERS } from '../../shared/identifiers';
import type { Finding } from '../../shared/types';
import { loadIdentifiersFile } from '../config/load-identifiers';
import { createDetector } from '../detect';
import { credited } from '../detect/credit';
import { attributed, createTrackerAttributor } from '../trackers/attribute';
import { parseHar, type HarRequestEntry } from '../detect/har';
import type { FilterExpr } from '../../shared/filter';
import { flowMatcher, type MatchableFlow } from '../filter/match';
import { UsageError } from './errors';
import { filterOption } from './filter-option';
import { textTable } from './text-table';

export interface ScanReportFinding extends Finding {
  entry: number;
  host: string;
  method: string;
  url: string;
}

export interface ScanReport {
  entries: number;
  flagged: number;
  findings: ScanReportFinding[];
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return '';
  }
}

function readHar(file: string): HarRequestEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`HAR file ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  try {
    return parseHar(text);
  } catch (err) {
    throw new UsageError(`HAR file ${file}: ${(err as Error).message}`);
  }
}

/** A HAR entry with its findings, as the filter language sees a flow. */
function entryFlow(request: HarRequestEntry, findings: Finding[]): MatchableFlow {
  const { leakscope, response } = request;
  return {
    url: request.url,
    host: hostOf(request.url),
    method: request.method,
    client: leakscope.client ?? '',
    device: leakscope.device,
    findings,
    requestHeaders: request.headers,
    requestBody: request.body && { text: request.body.toString('base64'), encoding: 'base64', size: request.body.length },
    status: response.status,
    responseHeaders: response.headers,
    responseBody: response.body,
    destination: leakscope.destination,
    marked: leakscope.marked,
  };
}

/** Findings of the entries of `file` that match `filter` (all, without one); `entries` counts every entry. */
export async function scanHar(file: string, identifiersFile?: string, filter?: FilterExpr): Promise<ScanReport> {
  const entries = readHar(file);
  const matches = filter ? flowMatcher(filter) : undefined;
  const detector = createDetector(identifiersFile ? loadIdentifiersFile(identifiersFile) : EMPTY_IDENTIFIERS);
  const trackers = createTrackerAttributor();
  const findings: ScanReportFinding[] = [];
  let flagged = 0;
  for (const [entry, request] of entries.entries()) {
    const result = await detector.scanRequest(request);
    const all = credited(attributed(result.findings, await trackers.attribute({ ...request, start: 0 }, result.findings)), request.leakscope.device);
    if (matches && !matches(entryFlow(request, all))) continue;
    if (all.length > 0) flagged++;
    const context = { entry, host: hostOf(request.url), method: request.method, url: request.url };
    for (const finding of all) findings.push({ ...context, ...finding });
  }
  return { entries: entries.length, flagged, findings };
}

function printTable(report: ScanReport): void {
  const rows = report.findings.map((f) => [String(f.entry), f.host, f.type, f.value, f.where, f.path, f.encoding, f.confidence, f.device ?? '']);
  const header = ['entry', 'host', 'type', 'value', 'where', 'path', 'encoding', 'confidence', 'device'];
  console.log(`${report.entries} requests, ${report.flagged} leaking, ${report.findings.length} findings`);
  if (rows.length === 0) return;
  for (const line of textTable(header, rows)) console.log(line);
}

export function scanCommand(): Command {
  return new Command('scan')
    .description('offline: scan every request in a HAR file, print findings')
    .argument('<file>', 'HAR file')
    .option('--identifiers <file>', 'identifiers file (JSON) with the values to look for')
    .option('--json', 'print the report as JSON')
    .option('--fail-on-leak', 'exit 1 when anything is found')
    .option('--filter <expr>', 'report only the entries matching a filter expression (README "Filter expressions")')
    .action(async (file: string, opts: { identifiers?: string; json?: boolean; failOnLeak?: boolean; filter?: string }) => {
      const report = await scanHar(file, opts.identifiers, filterOption(opts.filter));
      if (opts.json) console.log(JSON.stringify(report, null, 2));
      else printTable(report);
      if (opts.failOnLeak && report.findings.length > 0) process.exitCode = 1;
    });
}
