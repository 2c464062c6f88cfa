// The rows of the `findings` table a flow gives: one per identifier type, value, device and encoding, with the
// flow's destination, time and tracker beside each (what the matrix groups and filters by without reading JSON).
import type Database from 'better-sqlite3';
import type { Finding, FlowSummary } from '../../shared/types';

/** What a flow's rows are made of: a stored flow or its summary. */
type FindingSource = Pick<FlowSummary, 'id' | 'host' | 'device' | 'destination' | 'tracker' | 'findings'> & { start: number };

/** The findings of one flow, each (type, value, device[, encoding]) once, in the flow's order. */
export function uniqueByTypeValue(findings: Finding[], perEncoding = false): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = `${f.type}\0${f.value}\0${f.device ?? ''}${perEncoding ? `\0${f.encoding}` : ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** A function that writes a flow's finding rows (the caller deletes the old ones first, when there are any). */
export function findingWriter(db: Database.Database): (flow: FindingSource) => void {
  const insert = db.prepare(
    `INSERT INTO findings (flow_id, type, value, confidence, device, host, domain, country, org, time, tracker, tracker_name, encoding)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  return (flow) => {
    for (const f of uniqueByTypeValue(flow.findings, true)) {
      insert.run(
        flow.id,
        f.type,
        f.value,
        f.confidence,
        f.device ?? flow.device ?? null,
        flow.host,
        flow.destination?.domain ?? flow.host,
        flow.destination?.country ?? null,
        flow.destination?.org ?? null,
        flow.start,
        flow.tracker?.slug ?? null,
        flow.tracker?.name ?? null,
        f.encoding,
      );
    }
  };
}
