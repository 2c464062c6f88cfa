// The evidence report as one self-contained HTML file: inline CSS, no script, nothing fetched, every captured
// string escaped (html.ts) and every identifier value masked (mask.ts). Sections in the order auditors read them:
// summary, method, matrix, flagged flows, timeline, diff, integrity.
import type { DiffItem, DiffResult } from '../../../shared/audit';
import { VALUE_WORDS } from '../../../shared/identifiers';
import type { Finding, Flow, IdentifierType } from '../../../shared/types';
import { IDENTIFIER_TYPES } from '../../../shared/types';
import { html, SafeHtml } from './html';
import { mask, maskIn } from './mask';
import type { ReportData } from './gather';

const TYPE_LABELS: Partial<Record<IdentifierType, string>> = { ...VALUE_WORDS, email: 'e-mail', contact: 'contacts', location: 'location' };

const label = (type: string) => TYPE_LABELS[type as IdentifierType] ?? type;

/** Evidence times are UTC, to the second. */
export function utc(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? '–' : new Date(ms).toISOString().slice(0, 19).replace('T', ' ') + ' UTC';
}

const destinationOf = (flow: Flow) => flow.destination?.domain ?? flow.host;
const deviceOf = (flow: Flow, f?: Finding) => f?.device ?? flow.device ?? flow.client;

interface SummaryRow {
  device: string;
  type: IdentifierType;
  destination: string;
  hosts: Set<string>;
  countries: Set<string>;
  orgs: Set<string>;
  encodings: Set<string>;
  flows: Set<number>;
  first: number;
  last: number;
}

/** One row per device, identifier type and destination, over every flagged flow. */
function summaryRows(flagged: Flow[]): SummaryRow[] {
  const rows = new Map<string, SummaryRow>();
  for (const flow of flagged) {
    for (const f of flow.findings) {
      const key = [deviceOf(flow, f), f.type, destinationOf(flow)].join('\0');
      let row = rows.get(key);
      if (!row) {
        row = { device: deviceOf(flow, f), type: f.type, destination: destinationOf(flow), hosts: new Set(), countries: new Set(), orgs: new Set(), encodings: new Set(), flows: new Set(), first: flow.timings.start, last: flow.timings.start };
        rows.set(key, row);
      }
      row.hosts.add(flow.host);
      if (flow.destination?.country) row.countries.add(flow.destination.country);
      if (flow.destination?.org) row.orgs.add(flow.destination.org);
      row.encodings.add(f.encoding);
      row.flows.add(flow.id);
      row.first = Math.min(row.first, flow.timings.start);
      row.last = Math.max(row.last, flow.timings.start);
    }
  }
  const order = (t: IdentifierType) => IDENTIFIER_TYPES.indexOf(t);
  return [...rows.values()].sort((a, b) => a.device.localeCompare(b.device) || order(a.type) - order(b.type) || a.destination.localeCompare(b.destination));
}

const list = (values: Iterable<string>, empty = '–') => [...values].sort().join(', ') || empty;

function summarySection(d: ReportData, rows: SummaryRow[]): SafeHtml {
  const types = [...new Set(rows.map((r) => r.type))];
  const destinations = new Set(rows.map((r) => r.destination));
  const countries = new Set(rows.flatMap((r) => [...r.countries]));
  const lead = rows.length
    ? html`<p class="lead">In session <b>${d.session.name}</b>, ${d.flagged.length} of ${d.flows} captured requests carried identifiers of the phone:
        <b>${types.map(label).join(', ')}</b>, to ${destinations.size} destination${destinations.size === 1 ? '' : 's'}${countries.size ? html` in ${list(countries)}` : ''}.</p>`
    : html`<p class="lead">In session <b>${d.session.name}</b>, none of the ${d.flows} captured requests carried an identifier of the phone.</p>`;
  return html`<section id="summary"><h2>1. Summary</h2>${lead}
    ${rows.length ? html`<table data-testid="summary"><thead><tr><th>Identifier</th><th>Device</th><th>Destination</th><th>Country</th><th>Owner</th><th>Encoding</th><th>Requests</th><th>First seen</th><th>Last seen</th></tr></thead><tbody>
      ${rows.map((r) => html`<tr data-type="${r.type}" data-destination="${r.destination}"><td>${label(r.type)}</td><td class="nowrap">${r.device}</td><td class="mono" title="${list(r.hosts)}">${r.destination}</td><td>${list(r.countries)}</td><td>${list(r.orgs)}</td><td class="mono">${list(r.encodings)}</td><td class="num">${r.flows.size}</td><td class="time">${utc(r.first)}</td><td class="time">${utc(r.last)}</td></tr>`)}
    </tbody></table>` : ''}</section>`;
}

function methodSection(d: ReportData): SafeHtml {
  const s = d.session;
  return html`<section id="method"><h2>2. Method</h2>
    <table class="facts" data-testid="method"><tbody>
      <tr><th>Tool</th><td>leakscope ${d.version}, an intercepting proxy with its own certificate authority; each request the phone made was recorded and scanned for the identifiers below, plain, encoded or hashed.</td></tr>
      <tr><th>Capture mode</th><td>${d.modes.join(', ') || 'regular'}</td></tr>
      <tr><th>Session</th><td>${s.name} (started ${utc(s.started)}, ${s.ended ? `ended ${utc(s.ended)}` : 'still open when the report was made'})</td></tr>
      <tr><th>Time range of the flows</th><td>${utc(d.range.first)} to ${utc(d.range.last)}, ${d.flows} requests</td></tr>
      <tr><th>CA certificate (SHA-256)</th><td class="mono" data-testid="ca-fingerprint">${d.caFingerprint ?? 'not found in the data dir'}</td></tr>
      <tr><th>Report made</th><td>${utc(d.generated)}</td></tr>
    </tbody></table>
    <h3>Devices</h3>
    ${d.devices.length ? html`<table><thead><tr><th>Client address</th><th>Name</th><th>Requests</th></tr></thead><tbody>${d.devices.map((x) => html`<tr><td class="mono">${x.client}</td><td>${x.names.join(', ') || '–'}</td><td class="num">${x.flows}</td></tr>`)}</tbody></table>` : html`<p>No device used the proxy in this session.</p>`}
    <h3>Identifiers found (masked but for their last characters)</h3>
    ${d.identifiers.length ? html`<table data-testid="identifiers"><thead><tr><th>Device</th><th>Identifier</th><th>Value</th><th>Matched as</th><th>Requests</th></tr></thead><tbody>${d.identifiers.map((i) => html`<tr><td>${i.device}</td><td>${label(i.type)}</td><td class="mono">${mask(i.value)}</td><td>${i.confidence === 'known' ? 'known value' : i.confidence}</td><td class="num">${i.requests}</td></tr>`)}</tbody></table>` : html`<p>None.</p>`}
  </section>`;
}

function matrixSection(rows: SummaryRow[]): SafeHtml {
  const types = IDENTIFIER_TYPES.filter((t) => rows.some((r) => r.type === t));
  const byDestination = new Map<string, Map<IdentifierType, Set<number>>>();
  for (const r of rows) {
    const cells = byDestination.get(r.destination) ?? new Map<IdentifierType, Set<number>>();
    const cell = cells.get(r.type) ?? new Set<number>();
    for (const id of r.flows) cell.add(id);
    cells.set(r.type, cell);
    byDestination.set(r.destination, cells);
  }
  return html`<section id="matrix"><h2>3. Matrix</h2>
    ${rows.length ? html`<p>Requests that carried each identifier, per destination.</p><table class="matrix" data-testid="matrix"><thead><tr><th>Destination</th>${types.map((t) => html`<th>${label(t)}</th>`)}</tr></thead><tbody>
      ${[...byDestination].map(([dest, cells]) => html`<tr><th class="mono">${dest}</th>${types.map((t) => html`<td class="num">${cells.get(t)?.size ?? ''}</td>`)}</tr>`)}
    </tbody></table>` : html`<p>Nothing to show.</p>`}</section>`;
}

function flowSection(d: ReportData, flow: Flow): SafeHtml {
  const values = flow.findings.map((f) => f.value);
  const dest = flow.destination;
  return html`<article class="flow" data-flow-id="${flow.id}">
    <h3>Flow ${flow.id} <span class="muted">${utc(flow.timings.start)}</span></h3>
    <p class="request-line mono">${flow.method} ${maskIn(flow.url, values)} ${flow.httpVersion}</p>
    <p>Answer: ${flow.status ?? flow.error ?? '–'} · to ${flow.host}${dest?.ip ? ` (${dest.ip})` : ''}${dest?.country ? `, ${dest.country}` : ''}${dest?.org ? `, ${dest.org}` : ''} · device ${deviceOf(flow)}${flow.action ? ` · ${flow.action} by a rule` : ''}</p>
    <table><thead><tr><th>Identifier</th><th>Value</th><th>Where</th><th>Path</th><th>Encoding chain</th><th>Matched as</th></tr></thead><tbody>
      ${flow.findings.map((f) => html`<tr><td>${label(f.type)}</td><td class="mono">${mask(f.value)}</td><td>${f.where}</td><td class="mono">${maskIn(f.path, values)}</td><td class="mono">${f.encoding}</td><td>${f.confidence}</td></tr>`)}
    </tbody></table>
    <p class="small">Request body SHA-256: <span class="mono">${d.bodySha256.get(flow.id) ?? 'no body'}</span></p>
  </article>`;
}

function flowsSection(d: ReportData): SafeHtml {
  return html`<section id="flows"><h2>4. Flagged flows</h2>
    ${d.flagged.length ? html`<p>Each request that carried an identifier: its request line (identifier values masked), where each finding sits and how it was encoded, outermost last.</p>${d.flagged.map((f) => flowSection(d, f))}` : html`<p>None.</p>`}
  </section>`;
}

function timelineSection(d: ReportData, rows: SummaryRow[]): SafeHtml {
  const s = d.session;
  const events: { time: number; what: SafeHtml; kind: string }[] = [
    { time: s.started, what: html`Session <b>${s.name}</b> started`, kind: 'session' },
    ...s.markers.map((m) => ({ time: m.time, what: html`Marker: ${m.text}`, kind: 'marker' })),
  ];
  const firstByType = new Map<IdentifierType, SummaryRow>();
  for (const r of rows) if (!firstByType.has(r.type) || firstByType.get(r.type)!.first > r.first) firstByType.set(r.type, r);
  for (const [type, r] of firstByType) events.push({ time: r.first, what: html`First ${label(type)} sent, to ${r.destination}`, kind: 'leak' });
  if (s.ended) events.push({ time: s.ended, what: html`Session ended`, kind: 'session' });
  events.sort((a, b) => a.time - b.time);
  const from = events[0].time;
  const span = Math.max(events[events.length - 1].time - from, 1);
  return html`<section id="timeline"><h2>5. Timeline</h2>
    <div class="bar">${events.map((e) => html`<span class="tick ${e.kind}" style="left:${((100 * (e.time - from)) / span).toFixed(2)}%"></span>`)}</div>
    <table data-testid="timeline"><thead><tr><th>Time</th><th>Event</th></tr></thead><tbody>
      ${events.map((e) => html`<tr class="${e.kind}"><td>${utc(e.time)}</td><td>${e.what}</td></tr>`)}
    </tbody></table></section>`;
}

function diffTable(items: DiffItem[], names: DiffResult, testid: string): SafeHtml {
  if (!items.length) return html`<p data-testid="${testid}">None.</p>`;
  return html`<table data-testid="${testid}"><thead><tr><th>Device</th><th>Identifier</th><th>Destination</th><th>Encoding</th><th>Requests in ${names.a}</th><th>Requests in ${names.b}</th><th>First, last in ${names.a}</th><th>First, last in ${names.b}</th></tr></thead><tbody>
    ${items.map((i) => html`<tr data-type="${i.type}"><td class="nowrap">${i.device}</td><td>${label(i.type)}</td><td class="mono">${i.destination}</td><td class="mono">${i.encoding}</td><td class="num">${i.countA}</td><td class="num">${i.countB}</td><td class="time">${i.firstSeenA === null ? '–' : html`${utc(i.firstSeenA)}<br>${utc(i.lastSeenA)}`}</td><td class="time">${i.firstSeenB === null ? '–' : html`${utc(i.firstSeenB)}<br>${utc(i.lastSeenB)}`}</td></tr>`)}
  </tbody></table>`;
}

function diffSection(d: ReportData): SafeHtml {
  const diff = d.diff;
  if (!diff) return html`<section id="diff"><h2>6. Diff</h2><p>No session to compare with was given (<span class="mono">--against</span>).</p></section>`;
  return html`<section id="diff"><h2>6. Diff against ${diff.a}</h2>
    <p>What left the phone in <b>${diff.b}</b> compared with <b>${diff.a}</b>, per device, identifier, destination and encoding.</p>
    <h3>Gained (in ${diff.b}, not in ${diff.a}): ${diff.gained.length}</h3>${diffTable(diff.gained, diff, 'diff-gained')}
    <h3>Lost (in ${diff.a}, not in ${diff.b}): ${diff.lost.length}</h3>${diffTable(diff.lost, diff, 'diff-lost')}
    <h3>Kept: ${diff.kept.length}</h3>${diffTable(diff.kept, diff, 'diff-kept')}
    <p>New destinations: ${list(diff.destinations.new.map((x) => x.destination), 'none')}. Destinations no longer contacted: ${list(diff.destinations.gone.map((x) => x.destination), 'none')}.</p>
    <p>Countries that newly received identifiers: ${list(diff.countries.gained, 'none')}. Countries that no longer did: ${list(diff.countries.lost, 'none')}.</p>
  </section>`;
}

function integritySection(d: ReportData): SafeHtml {
  return html`<section id="integrity"><h2>7. Integrity</h2>
    <p><span class="mono">evidence.har</span> (HAR 1.2, the ${d.flows} requests of the session, unmasked) has SHA-256<br><code class="hash" data-testid="har-sha256">${d.harSha256}</code></p>
    ${d.flagged.length ? html`<p>SHA-256 of each flagged request's body, over the bytes evidence.har holds (its text; base64-decoded where marked so):</p><table data-testid="body-hashes"><thead><tr><th>Flow</th><th>Request</th><th>Body SHA-256</th></tr></thead><tbody>
      ${d.flagged.map((f) => html`<tr><td class="num">${f.id}</td><td class="mono">${f.method} ${f.host}</td><td class="mono hash">${d.bodySha256.get(f.id) ?? 'no body'}</td></tr>`)}
    </tbody></table>` : ''}
  </section>`;
}

const CSS = `
@page { size: A4; margin: 16mm 14mm; }
body { font: 10.5pt/1.45 system-ui, "DejaVu Sans", sans-serif; color: #1a1a1a; margin: 0 auto; max-width: 190mm; padding: 8mm 0; }
h1 { font-size: 18pt; margin: 0 0 2mm; } h2 { font-size: 13pt; margin: 8mm 0 2mm; border-bottom: 1px solid #999; padding-bottom: 1mm; }
h3 { font-size: 11pt; margin: 4mm 0 1mm; } .muted { color: #666; font-weight: normal; } .small { font-size: 9pt; }
.lead { font-size: 11.5pt; } .mono, code { font-family: "DejaVu Sans Mono", monospace; font-size: 9pt; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; margin: 2mm 0; font-size: 9pt; } th, td { border: 1px solid #bbb; padding: 1mm 1.5mm; text-align: left; vertical-align: top; }
thead th { background: #eee; } .num { text-align: right; } table.facts th { width: 28%; background: #f6f6f6; }
.flow { break-inside: avoid; border-left: 3px solid #c62828; padding-left: 3mm; margin: 4mm 0; } .request-line { background: #f6f6f6; padding: 1mm 2mm; }
.bar { position: relative; height: 6mm; background: #eee; margin: 3mm 1mm; } .tick { position: absolute; top: 0; bottom: 0; width: 2px; margin-left: -1px; }
.tick.session { background: #333; } .tick.marker { background: #1565c0; } .tick.leak { background: #c62828; }
.time { font-size: 8pt; } .nowrap { white-space: nowrap; }
tr.marker td { color: #1565c0; } tr.leak td { color: #c62828; } .hash { overflow-wrap: anywhere; }
header p { margin: 0; }
`;

export function renderReport(d: ReportData): string {
  const rows = summaryRows(d.flagged);
  const page = html`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="referrer" content="no-referrer">
<title>leakscope report: ${d.session.name}</title>
<style>${new SafeHtml(CSS)}</style></head>
<body>
<header><h1>Privacy leak report: ${d.session.name}</h1>
<p class="muted">leakscope ${d.version} · ${utc(d.range.first)} to ${utc(d.range.last)} · made ${utc(d.generated)}</p></header>
${summarySection(d, rows)}
${methodSection(d)}
${matrixSection(rows)}
${flowsSection(d)}
${timelineSection(d, rows)}
${diffSection(d)}
${integritySection(d)}
</body></html>
`;
  return page.text;
}
