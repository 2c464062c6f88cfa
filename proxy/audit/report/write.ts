// The report bundle: DIR/evidence.har (the session's flows), DIR/report.html (stating that file's SHA-256) and
// DIR/report.pdf (the same page, printed). Used by `leakscope report` and the dashboard's Report button.
import fs from 'node:fs';
import path from 'node:path';
import type { FlowStore } from '../../store/flow-store';
import type { SessionRef } from '../../store/session-log';
import { gatherReport } from './gather';
import { printPdf } from './pdf';
import { renderReport } from './render';

export const REPORT_FILES = ['report.html', 'report.pdf', 'evidence.har'] as const;

export interface ReportOptions {
  session: SessionRef;
  against?: SessionRef;
  /** the CA certificate the flows were captured under, for its fingerprint */
  caPem?: string;
  version: string;
  outDir: string;
}

export async function writeReport(store: FlowStore, opts: ReportOptions): Promise<{ files: string[]; harSha256: string; flows: number; flagged: number }> {
  fs.mkdirSync(opts.outDir, { recursive: true });
  const [htmlFile, pdfFile, harFile] = REPORT_FILES.map((f) => path.join(opts.outDir, f));
  const data = gatherReport(store, { session: opts.session, against: opts.against, caPem: opts.caPem, version: opts.version, harFile });
  fs.writeFileSync(htmlFile, renderReport(data));
  await printPdf(htmlFile, pdfFile);
  return { files: [htmlFile, pdfFile, harFile], harSha256: data.harSha256, flows: data.flows, flagged: data.flagged.length };
}
