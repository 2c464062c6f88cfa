// Keeps the full-text index (table flow_text, rowid = flow id) in step with the flows table.
import type Database from 'better-sqlite3';
import type { Flow } from '../../shared/types';
import { flowText } from '../filter/flow-text';

/** (Re)writes the indexed text of one flow. */
export function flowTextIndexer(db: Database.Database): (id: number, flow: Flow) => void {
  const remove = db.prepare('DELETE FROM flow_text WHERE rowid = ?');
  const insert = db.prepare('INSERT INTO flow_text (rowid, url, req_headers, res_headers, req_body, res_body) VALUES (?, ?, ?, ?, ?, ?)');
  return (id, flow) => {
    const t = flowText(flow);
    remove.run(id);
    insert.run(id, t.url, t.reqHeaders, t.resHeaders, t.reqBody, t.resBody);
  };
}
