// An instance's API of capture sessions, markers, the diff and the report bundle (shapes in shared/audit.ts; the
// list, GET /api/sessions, is in ./api.ts, over any store). Mutations go
// through the same same-origin JSON check as every other (the router is mounted inside apiRouter).
import fs from 'node:fs';
import path from 'node:path';
import express from 'express';
import type { ReportWritten } from '../../shared/audit';
import { diffSessions } from '../audit/diff';
import { REPORT_FILES, writeReport } from '../audit/report/write';
import { existingCaPem } from '../certs/authority';
import type { FlowStore } from '../store/flow-store';
import { SessionError } from '../store/session-log';
import { requireOwnOriginDownload, type HostCheck } from './host-check';

export interface SessionsApiDeps {
  store: FlowStore;
  dataDir: string;
  version: string;
  hostAllowed: HostCheck;
}

const STATUS: Record<SessionError['kind'], number> = { invalid: 400, missing: 404, exists: 409 };

/** SessionError → 400/404/409 with its message; anything else goes on to express. */
export const sessionErrors: express.ErrorRequestHandler = (err, _req, res, next) => {
  if (!(err instanceof SessionError)) return next(err);
  res.status(STATUS[err.kind]).json({ error: err.message });
};

const REPORT_ID = /^s\d+-\d{8}T\d{6}Z(-\d+)?$/;

function idParam(value: string): number {
  if (!/^\d+$/.test(value)) throw new SessionError(`session ${value}: expected a session id`, 'invalid');
  return Number(value);
}

const bodyOf = (req: express.Request) => (req.body ?? {}) as Record<string, unknown>;

export function sessionsRouter(deps: SessionsApiDeps): express.Router {
  const { store } = deps;
  const api = express.Router();
  const reportsDir = path.join(deps.dataDir, 'reports');
  // One report at a time: each starts a chromium, and the machine running the proxy has the phone's traffic to serve.
  let reporting: Promise<unknown> = Promise.resolve();

  api.post('/sessions', (req, res) => {
    const name = bodyOf(req).name;
    if (name !== undefined && typeof name !== 'string') throw new SessionError('name: a string', 'invalid');
    if (typeof name === 'string' && store.sessions.has(name))
      throw new SessionError(`name "${name.trim()}": another session has it`, 'exists');
    res.status(201).json(store.sessions.begin(typeof name === 'string' && name.trim() !== '' ? name : undefined));
  });
  api.put('/sessions/:id', (req, res) => {
    res.json(store.sessions.rename(idParam(req.params.id), bodyOf(req).name));
  });
  api.post('/sessions/:id/end', (req, res) => {
    res.json(store.sessions.end(idParam(req.params.id)));
  });
  api.post('/markers', (req, res) => {
    res.status(201).json(store.sessions.addMarker(bodyOf(req).text));
  });
  api.get('/diff', (req, res) => {
    const { a, b, device } = req.query;
    if (typeof a !== 'string' || typeof b !== 'string' || !a || !b) throw new SessionError('a and b: the two sessions to compare (names or ids)', 'invalid');
    res.json(diffSessions(store, a, b, typeof device === 'string' && device ? device : undefined));
  });
  api.post('/reports', async (req, res) => {
    const { session, against } = bodyOf(req);
    const ref = store.sessions.require(String(session ?? ''));
    const other = against === undefined || against === '' ? undefined : store.sessions.require(String(against));
    const stamp = new Date().toISOString().slice(0, 19).replace(/[-:]/g, '') + 'Z';
    let id = `s${ref.id}-${stamp}`;
    for (let i = 2; fs.existsSync(path.join(reportsDir, id)); i++) id = `s${ref.id}-${stamp}-${i}`;
    const outDir = path.join(reportsDir, id);
    const job = reporting.then(() =>
      writeReport(store, { session: ref, against: other, caPem: existingCaPem(path.join(deps.dataDir, 'ca')), version: deps.version, outDir }),
    );
    reporting = job.catch(() => undefined);
    const written = await job;
    const body: ReportWritten = { id, dir: outDir, files: written.files.map((f) => path.basename(f)), harSha256: written.harSha256 };
    res.status(201).json(body);
  });
  api.get('/reports/:id/:file', requireOwnOriginDownload(deps.hostAllowed), (req, res) => {
    const id = String(req.params.id);
    const file = String(req.params.file);
    if (!REPORT_ID.test(id) || !(REPORT_FILES as readonly string[]).includes(file)) return void res.status(404).json({ error: 'no such report file' });
    // The page is made of captured text: allow it nothing but its own inline style.
    if (file === 'report.html') res.set('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'");
    if (file === 'evidence.har') res.attachment(`evidence-${id}.har`);
    res.sendFile(path.join(id, file), { root: reportsDir }, (err) => {
      if (err && !res.headersSent) res.status(404).json({ error: 'no such report file' });
    });
  });
  return api;
}
